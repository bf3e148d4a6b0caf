"""Every loader on small files written here, and every bad-input case named in the foundation issue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from mtl_gym.data import IGNORE_INDEX, DataError, TaskKind, load_suite


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def fsmtl_lines(n: int, start: int = 0) -> str:
    return "".join(f"{i % 2}\tword{i} {'good' if i % 2 else 'bad'} text\n" for i in range(start, start + n))


@pytest.fixture
def fsmtl_dir(tmp_path):
    write(tmp_path / "books.task.train", fsmtl_lines(30) + fsmtl_lines(2))  # two duplicate lines
    write(tmp_path / "books.task.test", fsmtl_lines(10, start=28))  # texts 28..31 overlap train
    write(tmp_path / "dvd.task.train", fsmtl_lines(20))
    write(tmp_path / "dvd.task.test", fsmtl_lines(6))
    return tmp_path


def test_fsmtl_splits_counts_and_tensors(fsmtl_dir):
    suite = load_suite("fsmtl", fsmtl_dir, dev_size=5)
    assert suite.names == ["books", "dvd"]
    books = suite["books"]
    assert (len(books.train), len(books.dev), len(books.test)) == (27, 5, 10)
    assert books.kind is TaskKind.CLASSIFICATION and books.label_names == ("negative", "positive")
    assert books.counts["train_duplicates"] == 2
    assert books.counts["train_test_overlap"] == 2  # texts 28 and 29
    # dev is the last 5 lines of the train file: lines 28, 29 and the two repeated lines 0, 1
    assert books.dev.labels.tolist() == [1, 0, 1, 0, 1]
    assert books.train.tokens.dtype == torch.int64 and books.train.tokens.shape[0] == 27
    assert books.train.lengths.tolist() == [3] * 27
    word = suite.vocab.token_to_id("word3")
    assert books.train.tokens[3, 0].item() == word


def test_fsmtl_drop_test_overlap(fsmtl_dir):
    suite = load_suite("fsmtl", fsmtl_dir, dev_size=5, drop_test_overlap=True)
    books = suite["books"]
    assert books.counts["dropped_test_overlap"] == 2
    assert len(books.train) + len(books.dev) == 30
    assert suite.summary()["tasks"][0]["train_test_overlap"] == 2


def test_fsmtl_cp1252_line_and_0x85_do_not_split_lines(tmp_path):
    # 0x85 is NEL in latin-1; splitting on it would make two lines out of one.
    write(tmp_path / "a.task.train", b"1\tcaf\xe9 ok\x85 fine\n" + fsmtl_lines(8).encode())
    write(tmp_path / "a.task.test", fsmtl_lines(4))
    suite = load_suite("fsmtl", tmp_path, dev_size=3)
    task = suite["a"]
    assert len(task.train) + len(task.dev) == 9
    assert task.counts["cp1252_lines"] == 1
    assert suite.vocab.token_to_id("café") > 1


@pytest.mark.parametrize(
    ("content", "message", "line"),
    [
        ("1\tfine\n0\ttoo\tmany\n", "expected 2 tab-separated columns", 2),
        ("1\tfine\nx\tbad label\n", "non-integer label 'x'", 2),
        ("1\tfine\n2\tthird class\n", "unknown label 2", 2),
        ("1\tfine\n0\t   \n", "empty text", 2),
    ],
)
def test_fsmtl_bad_lines_name_file_and_line(tmp_path, content, message, line):
    train = write(tmp_path / "a.task.train", content)
    write(tmp_path / "a.task.test", fsmtl_lines(4))
    with pytest.raises(DataError, match=message) as info:
        load_suite("fsmtl", tmp_path, dev_size=1)
    assert info.value.path == train and info.value.line == line
    assert f"a.task.train:{line}:" in str(info.value)


def test_fsmtl_undecodable_bytes(tmp_path):
    write(tmp_path / "a.task.train", b"1\tfine\n0\tbad \x81 byte\n")  # 0x81 is not UTF-8 and not cp1252
    write(tmp_path / "a.task.test", fsmtl_lines(4))
    with pytest.raises(DataError, match=r"a.task.train:2: undecodable byte 0x81"):
        load_suite("fsmtl", tmp_path, dev_size=1)


def test_fsmtl_empty_file(tmp_path):
    write(tmp_path / "a.task.train", fsmtl_lines(6))
    write(tmp_path / "a.task.test", "\n")
    with pytest.raises(DataError, match=r"a.task.test: file is empty"):
        load_suite("fsmtl", tmp_path, dev_size=1)


def test_fsmtl_label_sets_differ(tmp_path):
    write(tmp_path / "a.task.train", fsmtl_lines(6))
    write(tmp_path / "a.task.test", "1\tonly positive\n1\tstill positive\n")
    with pytest.raises(DataError, match="label sets differ between splits") as info:
        load_suite("fsmtl", tmp_path, dev_size=2)
    assert "a.task.test" in str(info.value)


def test_fsmtl_blank_lines_are_counted(tmp_path):
    write(tmp_path / "a.task.train", fsmtl_lines(6) + "\n" + fsmtl_lines(2, start=6))
    write(tmp_path / "a.task.test", fsmtl_lines(4))
    task = load_suite("fsmtl", tmp_path, dev_size=2)["a"]
    assert task.counts["blank_lines"] == 1 and len(task.train) + len(task.dev) == 8


def test_fsmtl_missing_folder_data(tmp_path):
    with pytest.raises(DataError, match="no fsmtl16 data here"):
        load_suite("fsmtl", tmp_path)


def generic_rows(n: int) -> list[tuple[str, str]]:
    return [("pos" if i % 3 else "neg", f"example {i} text") for i in range(n)]


def test_generic_folder_all_three_formats(tmp_path):
    rows = generic_rows(12)
    write(tmp_path / "tsv_task" / "train.tsv", "".join(f"{lab}\t{txt}\n" for lab, txt in rows))
    write(tmp_path / "tsv_task" / "test.tsv", "".join(f"{lab}\t{txt}\n" for lab, txt in rows[:6]))
    csv_text = "id,text,label\n" + "".join(
        f'{i},"{txt}, quoted",{lab}\n' for i, (lab, txt) in enumerate(rows)
    )
    write(tmp_path / "csv_task" / "train.csv", csv_text)
    write(tmp_path / "csv_task" / "dev.csv", csv_text)
    write(tmp_path / "csv_task" / "test.csv", csv_text)
    jsonl = "".join(json.dumps({"text": txt, "label": lab}) + "\n" for lab, txt in rows)
    write(tmp_path / "json_task" / "train.jsonl", jsonl)
    write(tmp_path / "json_task" / "test.jsonl", jsonl)
    suite = load_suite("folder", tmp_path, dev_size=3)
    assert suite.names == ["csv_task", "json_task", "tsv_task"]
    for task in suite:
        assert task.label_names == ("neg", "pos")
    assert len(suite["tsv_task"].dev) == 3 and len(suite["tsv_task"].train) == 9
    assert len(suite["csv_task"].dev) == 12  # a dev file is used when present
    assert suite["csv_task"].train.lengths[0].item() == 4  # "example 0 text, quoted"
    assert suite["json_task"].test.labels.tolist() == [0, 1, 1] * 4


def test_generic_unknown_label_and_bad_rows(tmp_path):
    rows = generic_rows(6)
    write(tmp_path / "t" / "train.tsv", "".join(f"{lab}\t{txt}\n" for lab, txt in rows))
    write(tmp_path / "t" / "test.tsv", "pos\tfine\nmaybe\tunseen label\n")
    with pytest.raises(DataError, match=r"test.tsv:2: unknown label 'maybe'"):
        load_suite("folder", tmp_path, dev_size=2)
    write(tmp_path / "t" / "test.tsv", "pos\tfine\n{broken\n")
    with pytest.raises(DataError, match=r"test.tsv:2: expected 2 tab-separated columns"):
        load_suite("folder", tmp_path, dev_size=2)


def test_generic_jsonl_and_csv_errors(tmp_path):
    write(tmp_path / "j" / "train.jsonl", '{"label": "a", "text": "x y"}\n{"label": "b"\n')
    write(tmp_path / "j" / "test.jsonl", '{"label": "a", "text": "x y"}\n')
    with pytest.raises(DataError, match=r"train.jsonl:2: invalid JSON"):
        load_suite("folder", tmp_path)
    write(tmp_path / "j" / "train.jsonl", '{"label": "a", "text": "x y"}\n{"text": "no label"}\n')
    with pytest.raises(DataError, match=r"train.jsonl:2: expected an object with 'label' and 'text'"):
        load_suite("folder", tmp_path)
    other = tmp_path / "other"
    write(other / "c" / "train.csv", "label,text\na,one\nb,two,extra\n")
    write(other / "c" / "test.csv", "label,text\na,one\n")
    with pytest.raises(DataError, match=r"train.csv:3: expected 2 CSV columns, found 3"):
        load_suite("folder", other)


def test_generic_empty_task(tmp_path):
    write(tmp_path / "t" / "train.tsv", "a\tone two\nb\tthree\na\tfour\nb\tfive\n")
    write(tmp_path / "t" / "test.tsv", "\n\n")
    with pytest.raises(DataError, match="test.tsv: file is empty"):
        load_suite("folder", tmp_path, dev_size=1)
    write(tmp_path / "t" / "test.tsv", "a\tone\n")
    write(tmp_path / "t" / "dev.tsv", "\n\n\n")
    with pytest.raises(DataError, match="dev.tsv: file is empty"):
        load_suite("folder", tmp_path)


CONLL_TRAIN = """-DOCSTART- -X- O

The DT B-NP
cat NN I-NP
sat VBD B-VP

A DT B-NP
dog NN I-NP

Dogs NNS B-NP
run VBP B-VP
"""


def test_conll_columns_become_tasks(tmp_path):
    write(tmp_path / "train.txt", CONLL_TRAIN)
    write(tmp_path / "test.txt", "The DT B-NP\ncat NN I-NP\n\nlist LS B-LST\nitem NN I-LST\n")
    suite = load_suite("conll2000", tmp_path, dev_size=1)
    assert suite.names == ["pos", "chunk"]
    pos, chunk = suite["pos"], suite["chunk"]
    assert pos.kind is TaskKind.TAGGING and len(pos.train) == 2 and len(pos.dev) == 1
    assert pos.counts["docstart_lines"] == 1
    assert "B-LST" in chunk.label_names and chunk.counts["labels_only_in_eval"] == 2
    first = pos.train.labels[0].tolist()
    assert [pos.label_names[i] for i in first] == ["DT", "NN", "VBD"]
    second = pos.train.labels[1].tolist()
    assert second[2] == IGNORE_INDEX and pos.train.lengths.tolist() == [3, 2]
    assert pos.train.tokens[0].tolist() == chunk.train.tokens[0].tolist()
    words = [suite.vocab.id_to_token(i) for i in pos.train.tokens[0].tolist()]
    assert words == ["The", "cat", "sat"]


def test_conll_column_count_and_bom(tmp_path):
    write(tmp_path / "train.txt", "The DT B-NP\ncat NN\n")
    write(tmp_path / "test.txt", "The DT B-NP\n")
    with pytest.raises(
        DataError, match=r"train.txt:2: expected 3 columns like the first token line, found 2"
    ):
        load_suite("conll2000", tmp_path, dev_size=1)
    folder = tmp_path / "wnut"
    write(folder / "wnut17train.conll", "Paris\tB-location\nrocks\tO\n\nhi\tO\n")
    write(folder / "emerging.dev.conll", "Rome\tB-location\n\ufeff\n")
    write(folder / "emerging.test.annotated", "hello\tO\n\nBob\tB-person\n")
    suite = load_suite("wnut17", folder)
    ner = suite["ner"]
    assert len(ner.dev) == 1 and ner.counts["bom_removed"] == 1
    assert ner.label_names == ("B-location", "B-person", "O")
    assert ner.counts["labels_only_in_eval"] == 1


def test_unknown_suite_and_option():
    with pytest.raises(KeyError, match="unknown suite 'nope'"):
        load_suite("nope")
    with pytest.raises(ValueError, match="unknown option"):
        load_suite("synthetic", colour="red")
