"""One word-level vocabulary shared by every task of a suite, built and applied with ``tokenizers``.

Encoding happens once, when a suite is built (``encode_batch`` runs in Rust over all lines at
once); training steps only index pre-padded tensors.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

PAD = "<pad>"
UNK = "<unk>"
PAD_ID = 0
UNK_ID = 1


@dataclass(frozen=True)
class VocabConfig:
    """How the shared vocabulary is built from the training splits."""

    max_size: int = 30_000
    """Largest vocabulary, special tokens included (the FS-MTL setting uses about 30K words)."""
    min_freq: int = 1
    """A word must occur this often in the training splits to get its own id."""
    lowercase: bool = False
    """Lowercase before lookup. FDU-MTL text is lowercased already; tagging keeps case by default."""
    eval_words: bool = False
    """Also give an id to each word that occurs only in dev or test, after all training words and
    beyond ``max_size``. Their embeddings never train (the ``bilstm`` reads them as the unknown
    word); the id only carries the word's spelling to a model with character features, which can
    read any string. Off, such words are the unknown word and their spelling is lost."""


class Vocabulary:
    """A ``tokenizers`` WordLevel model over whitespace-split words; id 0 pads, id 1 is unknown."""

    def __init__(self, tokenizer: Tokenizer):
        self.tokenizer = tokenizer
        if tokenizer.token_to_id(PAD) != PAD_ID or tokenizer.token_to_id(UNK) != UNK_ID:
            raise ValueError(f"a vocabulary must map {PAD!r} to {PAD_ID} and {UNK!r} to {UNK_ID}")

    @classmethod
    def build(cls, texts: Iterable[str], config: VocabConfig = VocabConfig()) -> Vocabulary:
        tokenizer = Tokenizer(models.WordLevel(unk_token=UNK))
        if config.lowercase:
            tokenizer.normalizer = normalizers.Lowercase()
        tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        trainer = trainers.WordLevelTrainer(
            vocab_size=config.max_size,
            min_frequency=config.min_freq,
            special_tokens=[PAD, UNK],
            show_progress=False,
        )
        tokenizer.train_from_iterator(texts, trainer=trainer)
        return cls(tokenizer)

    def extended(self, words: Iterable[str]) -> Vocabulary:
        """This vocabulary plus ``words`` it lacks (normalised as lookups are), with new ids after
        every existing one, so the existing ids keep their meaning."""
        ids = dict(self.tokenizer.get_vocab())
        normalizer = self.tokenizer.normalizer
        for word in words:
            ids.setdefault(normalizer.normalize_str(word) if normalizer else word, len(ids))
        tokenizer = Tokenizer(models.WordLevel(ids, unk_token=UNK))
        tokenizer.normalizer = normalizer
        tokenizer.pre_tokenizer = self.tokenizer.pre_tokenizer
        return Vocabulary(tokenizer)

    def __len__(self) -> int:
        return self.tokenizer.get_vocab_size()

    def encode(self, texts: list[str], max_len: int | None = None) -> list[list[int]]:
        """Ids of the first ``max_len`` whitespace-separated words of each text.

        Long texts are cut before they reach the tokenizer: FDU-MTL reviews average about 130
        words, and encoding only what is kept halves the load time of the 12-domain suite.
        """
        if max_len is not None:
            texts = [" ".join(words[:max_len]) if len(words := t.split()) > max_len else t for t in texts]
        return [enc.ids for enc in self.tokenizer.encode_batch_fast(texts, add_special_tokens=False)]

    def encode_words(self, sentences: list[list[str]], max_len: int | None = None) -> list[list[int]]:
        """Exactly one id per given word (the first ``max_len``), for tagging, where ids align with tags."""
        if max_len is not None:
            sentences = [words[:max_len] for words in sentences]
        # The slower encode_batch, not encode_batch_fast: only it fills word_ids, which align ids to words.
        encodings = self.tokenizer.encode_batch(sentences, is_pretokenized=True, add_special_tokens=False)
        ids = []
        for words, enc in zip(sentences, encodings, strict=True):
            # A word holding whitespace would split into several ids; keep the first one.
            first = {}
            for position, word_index in enumerate(enc.word_ids):
                first.setdefault(word_index, enc.ids[position])
            ids.append([first.get(i, UNK_ID) for i in range(len(words))])
        return ids

    def token_to_id(self, word: str) -> int:
        found = self.tokenizer.token_to_id(word)
        return UNK_ID if found is None else found

    def id_to_token(self, index: int) -> str:
        return self.tokenizer.id_to_token(index)

    def words(self) -> list[str]:
        """All words, indexed by id."""
        return [self.tokenizer.id_to_token(i) for i in range(len(self))]

    def to_json(self) -> str:
        return self.tokenizer.to_str()

    @classmethod
    def from_json(cls, text: str) -> Vocabulary:
        return cls(Tokenizer.from_str(text))
