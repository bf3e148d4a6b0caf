"""Issue 14 (data and env parts): input that loaded when it should not, or stopped when it need not,
and stepping an env whose episode has ended. Each case asserts the message or the count."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from mtl_gym.data import DataError, DataWarning, load_suite
from mtl_gym.env import EnvConfig, MTLSchedulingEnv


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def labelled(n: int, start: int = 0) -> str:
    """``n`` FDU-MTL style lines with distinct texts and alternating labels."""
    return "".join(f"{i % 2}\ttext number {i} here\n" for i in range(start, start + n))


def tsv(rows) -> str:
    return "".join(f"{label}\t{text}\n" for label, text in rows)


def two_label_rows(n: int, start: int = 0) -> list[tuple[str, str]]:
    return [("pos" if i % 2 else "neg", f"example {i}") for i in range(start, start + n)]


def fsmtl_task(folder: Path, train: str | bytes, test: str | bytes = labelled(8, start=500), name="a"):
    write(folder / f"{name}.task.train", train)
    write(folder / f"{name}.task.test", test)
    return folder / f"{name}.task.train"


def folder_task(root: Path, name: str, train: str, test: str, dev: str | None = None) -> Path:
    write(root / name / "train.tsv", train)
    write(root / name / "test.tsv", test)
    if dev is not None:
        write(root / name / "dev.tsv", dev)
    return root / name


# -- encodings and NUL bytes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "prefix", "named", "bom"),
    [
        ("utf-16", b"", "UTF-16LE", True),  # Python writes FF FE, then little-endian units
        ("utf-16-be", b"\xfe\xff", "UTF-16BE", True),
        ("utf-32", b"", "UTF-32LE", True),  # FF FE 00 00
        ("utf-32-be", b"\x00\x00\xfe\xff", "UTF-32BE", True),
        ("utf-16-le", b"", "UTF-16LE", False),
        ("utf-16-be", b"", "UTF-16BE", False),
        ("utf-32-le", b"", "UTF-32LE", False),
    ],
)
def test_utf16_and_utf32_files_are_refused_naming_the_encoding(tmp_path, encoding, prefix, named, bom):
    train = fsmtl_task(tmp_path, prefix + labelled(20).encode(encoding))
    with pytest.raises(DataError, match="convert it to UTF-8") as info:
        load_suite("fsmtl", tmp_path, dev_size=2)
    message = str(info.value)
    assert info.value.path == train
    assert f"file is {named}" in message or f"file looks like {named}" in message
    assert ("without a byte-order mark" in message) is not bom and f"iconv -f {named} -t UTF-8" in message
    assert message.startswith(f"{train}: ")


def test_utf16_folder_file_is_refused_not_a_column_error(tmp_path):
    folder_task(tmp_path, "t", tsv(two_label_rows(20)), tsv(two_label_rows(4)))
    test = write(tmp_path / "t" / "test.tsv", tsv(two_label_rows(4)).encode("utf-16"))
    with pytest.raises(DataError, match=r"test.tsv: file is UTF-16LE \(byte-order mark ff fe\)") as info:
        load_suite("folder", tmp_path, dev_size=4)
    assert info.value.path == test and "columns" not in str(info.value)


def test_utf8_bom_is_still_removed_and_counted(tmp_path):
    fsmtl_task(tmp_path, "\ufeff" + labelled(20))
    task = load_suite("fsmtl", tmp_path, dev_size=2)["a"]
    assert task.counts["bom_removed"] == 1 and len(task.train) + len(task.dev) == 20


@pytest.mark.parametrize(
    ("bad_line", "column"),
    [("0\tsome\x00text\n", 7), ("0\t\x00\x00\x00\n", 3)],  # a text of only NULs is not a text
)
def test_nul_bytes_are_rejected_with_file_and_line(tmp_path, bad_line, column):
    train = fsmtl_task(tmp_path, labelled(5) + bad_line + labelled(5, start=5))
    with pytest.raises(DataError, match=rf"a.task.train:6: NUL byte at column {column} ") as info:
        load_suite("fsmtl", tmp_path, dev_size=2)
    assert info.value.path == train and info.value.line == 6
    summary = load_suite("fsmtl", tmp_path, dev_size=2, bad_lines="skip").summary()["tasks"][0]
    assert summary["skipped"] == {"nul_byte": 1} and summary["train"] + summary["dev"] == 10


# -- labels --------------------------------------------------------------------------------------


def test_label_whitespace_is_stripped_and_counted(tmp_path):
    train = tsv(two_label_rows(10)) + " pos\tspaced before\nneg \tspaced after\n"
    folder_task(tmp_path, "t", train, tsv(two_label_rows(4)))
    suite = load_suite("folder", tmp_path, dev_size=2)
    summary = suite.summary()["tasks"][0]
    assert suite["t"].label_names == ("neg", "pos")  # " pos" merged into "pos", counted
    assert summary["labels_stripped"] == 2 and summary["counts"]["labels_stripped"] == 2


def test_fsmtl_label_with_spaces_is_counted(tmp_path):
    fsmtl_task(tmp_path, labelled(11) + " 1 \tpadded label\n")
    assert load_suite("fsmtl", tmp_path, dev_size=2)["a"].counts["labels_stripped"] == 1


def test_a_classification_task_needs_two_labels(tmp_path):
    one_label = [("pos", f"example {i}") for i in range(10)]
    folder_task(tmp_path, "t", tsv(one_label), tsv(one_label[:3]))
    with pytest.raises(
        DataError,
        match=r"train.tsv: task 't' has 1 label in train \(\['pos'\]\); classification needs at least 2",
    ):
        load_suite("folder", tmp_path, dev_size=2)


# -- task names and paths ------------------------------------------------------------------------


def test_tasks_option_cannot_leave_the_data_root(tmp_path):
    root = tmp_path / "root"
    folder_task(root, "ok", tsv(two_label_rows(10)), tsv(two_label_rows(4)))
    folder_task(tmp_path, "secret", tsv(two_label_rows(10)), tsv(two_label_rows(4)))  # readable if reached
    with pytest.raises(DataError, match=r"unsafe task name '\.\./secret'.*not a path") as info:
        load_suite("folder", root, tasks=["ok", "../secret"], dev_size=2)
    assert info.value.path == root
    with pytest.raises(DataError, match=r"unsafe task name '/etc'"):
        load_suite("folder", root, tasks=["/etc"], dev_size=2)
    with pytest.raises(DataError, match=r"unsafe task name '\.\./\.\./secret'"):
        load_suite("fsmtl", fsmtl_task(root, labelled(10)).parent, domains=["a", "../../secret"])


@pytest.mark.parametrize("name", ["tab\there", "rtl\u202eevil", "$(touch x)", "a b", "-flag", "ünï"])
def test_task_names_outside_the_safe_set_are_shown_escaped(tmp_path, name):
    folder_task(tmp_path, "ok", tsv(two_label_rows(10)), tsv(two_label_rows(4)))
    with pytest.raises(DataError, match="unsafe task name") as info:
        load_suite("folder", tmp_path, tasks=["ok", name], dev_size=2)
    message = str(info.value)
    assert ascii(name) in message and message.isascii()


def test_discovered_folder_with_an_unsafe_name_is_refused(tmp_path):
    folder_task(tmp_path, "ok", tsv(two_label_rows(10)), tsv(two_label_rows(4)))
    folder_task(tmp_path, "bad\tname", tsv(two_label_rows(10)), tsv(two_label_rows(4)))
    with pytest.raises(DataError, match=r"unsafe task name 'bad\\tname'"):
        load_suite("folder", tmp_path, dev_size=2)


# -- bad_lines="error" | "skip" ------------------------------------------------------------------


def test_empty_text_like_sports_outdoors_line_1121(tmp_path):
    # The public FDU-MTL sports_outdoors.task.train has an empty text on line 1121.
    train = fsmtl_task(tmp_path, labelled(1120) + "1\t\n" + labelled(479, start=1120), name="sports_outdoors")
    with pytest.raises(DataError) as info:
        load_suite("fsmtl", tmp_path)
    assert str(info.value) == (f'{train}:1121: empty text (bad_lines="skip" skips and counts such lines)')
    suite = load_suite("fsmtl", tmp_path, bad_lines="skip")
    summary = suite.summary()["tasks"][0]
    assert summary["skipped_lines"] == 1 and summary["skipped"] == {"empty_text": 1}
    assert summary["counts"]["skipped_empty_text"] == 1
    assert (summary["train"], summary["dev"]) == (1399, 200)


def test_fsmtl_skip_counts_each_reason(tmp_path):
    bad = "0\ttoo\tmany\nx\tbad label\n7\tunknown label\n1\t   \n1\xff\n"
    fsmtl_task(tmp_path, labelled(10) + bad + labelled(10, start=10))
    summary = load_suite("fsmtl", tmp_path, dev_size=2, bad_lines="skip").summary()["tasks"][0]
    assert summary["skipped"] == {"bad_label": 2, "columns": 2, "empty_text": 1}
    assert summary["skipped_lines"] == 5 and summary["train"] + summary["dev"] == 20


def test_folder_skip_counts_each_reason(tmp_path):
    rows = two_label_rows(12)
    jsonl = "".join(json.dumps({"label": label, "text": text}) + "\n" for label, text in rows)
    write(
        tmp_path / "j" / "train.jsonl",
        jsonl + '{"label": "pos"\n{"text": "no label"}\n{"label": "pos", "text": 3}\n',
    )
    write(
        tmp_path / "j" / "test.jsonl",
        jsonl + '{"label": "maybe", "text": "unseen"}\n{"label": " ", "text": "x"}\n',
    )
    write(tmp_path / "c" / "train.csv", "label,text\n" + "".join(f"{a},{b}\n" for a, b in rows) + "pos,a,b\n")
    write(tmp_path / "c" / "test.csv", "label,text\n" + "".join(f"{a},{b}\n" for a, b in rows))
    with pytest.raises(DataError, match=r'train.csv:14: expected 2 CSV columns, found 3 \(bad_lines="skip"'):
        load_suite("folder", tmp_path, dev_size=3)
    suite = load_suite("folder", tmp_path, dev_size=3, bad_lines="skip")
    counts = {t["name"]: t["skipped"] for t in suite.summary()["tasks"]}
    assert counts["c"] == {"columns": 1}
    assert counts["j"] == {
        "bad_text": 1,
        "empty_label": 1,
        "invalid_json": 1,
        "missing_keys": 1,
        "unknown_label": 1,
    }
    assert len(suite["j"].test) == 12


def test_conll_skip_drops_the_sentence_of_a_bad_line(tmp_path):
    write(tmp_path / "train.txt", "The DT B-NP\ncat NN\n\nA DT B-NP\ndog NN I-NP\n\n" * 2 + "x DT B-NP\n")
    write(tmp_path / "test.txt", "The DT B-NP\n")
    with pytest.raises(DataError, match=r'train.txt:2: expected 3 columns .* \(bad_lines="skip"'):
        load_suite("conll2000", tmp_path, dev_size=1)
    with pytest.warns(DataWarning):
        pos = load_suite("conll2000", tmp_path, dev_size=1, bad_lines="skip")["pos"]
    assert pos.counts["skipped_columns"] == 2 and pos.counts["bad_sentences_dropped"] == 2
    assert len(pos.train) + len(pos.dev) == 3


def test_bad_lines_must_be_error_or_skip():
    with pytest.raises(ValueError, match="bad_lines must be one of"):
        load_suite("fsmtl", "/nonexistent", bad_lines="ignore")


# -- overlap, dedupe_dev and the dev_size warning ------------------------------------------------


def test_dev_and_test_overlap_with_train_are_counted(tmp_path):
    # Like the public FDU-MTL magazines domain: the dev lines carved from the end of train repeat
    # earlier train lines, and so do test lines.
    train = labelled(40) + labelled(3, start=0) + labelled(7, start=100)  # last 10 lines become dev
    test = labelled(5, start=10) + labelled(5, start=200)  # 5 test lines occur in train
    fsmtl_task(tmp_path, train, test)
    summary = load_suite("fsmtl", tmp_path, dev_size=10).summary()["tasks"][0]
    assert (summary["dev_in_train"], summary["test_in_train"]) == (3, 5)
    assert summary["dev_held_out"] == 10 and not summary["dev_size_warning"]


def test_dedupe_dev_drops_train_lines_found_in_dev(tmp_path):
    train = labelled(40) + labelled(3, start=0) + labelled(7, start=100)
    fsmtl_task(tmp_path, train, labelled(5, start=10))
    task = load_suite("fsmtl", tmp_path, dev_size=10, dedupe_dev=True)["a"]
    assert task.counts["dropped_dev_overlap"] == 3 and task.counts["dev_in_train"] == 0
    assert (len(task.train), len(task.dev)) == (37, 10)


def test_folder_dev_file_overlap_and_dedupe(tmp_path):
    rows = two_label_rows(20)
    folder_task(
        tmp_path,
        "t",
        tsv(rows),
        tsv(rows[:4] + two_label_rows(4, 50)),
        dev=tsv(rows[10:12] + two_label_rows(4, 60)),
    )
    summary = load_suite("folder", tmp_path).summary()["tasks"][0]
    assert (summary["dev_in_train"], summary["test_in_train"], summary["dev_held_out"]) == (2, 4, 0)
    task = load_suite("folder", tmp_path, dedupe_dev=True)["t"]
    assert len(task.train) == 18 and task.counts["dev_in_train"] == 0


def test_dev_size_taking_over_a_quarter_of_train_warns(tmp_path):
    folder_task(tmp_path, "t", tsv(two_label_rows(300)), tsv(two_label_rows(10)))
    with pytest.warns(
        DataWarning, match=r"train.tsv: dev_size=200 takes 200 of its 300 train examples \(67%\)"
    ):
        suite = load_suite("folder", tmp_path)
    summary = suite.summary()["tasks"][0]
    assert summary["dev_size_warning"] is True and summary["dev_held_out"] == 200
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet = load_suite("folder", tmp_path, dev_size=75).summary()["tasks"][0]
    assert quiet["dev_size_warning"] is False and quiet["dev_held_out"] == 75


# -- env contract --------------------------------------------------------------------------------


def test_step_after_the_episode_ended_raises_until_reset(small_suite):
    env = MTLSchedulingEnv(
        small_suite,
        {"name": "cnn", "embedding_dim": 16, "hidden_dim": 16},
        EnvConfig(episode_steps=2, hard_samples=8),
    )
    env.reset(seed=0)
    assert env.step(0)[3] is False and env.step(1)[3] is True
    with pytest.raises(RuntimeError, match=r"episode ended .* call reset\(\) before step\(\)"):
        env.step(2)
    assert env.trainer.budget.total == 2  # nothing was trained after the end
    env.reset(seed=1)
    assert env.step(2)[3] is False
