"""The embedded default data set: K domains of short review-like texts with binary sentiment.

A review is a few clauses in random order. Cue clauses carry sentiment ("the zorvik is not very
good"); filler clauses are neutral ("i bought the zorvik last week"). Each example first draws its
label, then ``m`` cues of that polarity and fewer than ``m`` of the other, so the label is the sign
of the summed cue polarity and never a tie; label noise is applied afterwards.

Domains converge at different speeds, which is what a scheduler has to notice:

* size: a large domain keeps improving for many epochs, while a small one (~120 examples)
  fits its train split in a few epochs and then overfits;
* difficulty: more filler makes inputs longer with more irrelevant words, and more minority cues
  of the opposite polarity shrink the margin, so a single misread cue flips the label;
* label noise: flipped train/dev labels cap dev accuracy and reward stopping early; test labels
  stay clean;
* vocabulary: a cue word comes from an English pool shared by every domain with probability
  ``shared_vocab``, otherwise from the domain's own made-up words, which only its own examples
  teach. Shared words are where transfer between tasks comes from.

Negation makes word order matter. A negator ("not", "never", "hardly") flips the polarity of the
next sentiment word, and a negated cue is written with a word of the opposite surface polarity
("not bad" for a positive cue). A bag-of-words model sees the same bag in "not good ... bad"
(negative) and "good ... not bad" (positive), so it cannot get negated examples all right; a
sequence model such as an LSTM can.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .task import SPLITS, RawSplit, RawTask, TaskKind

LABEL_NAMES = ("negative", "positive")
NEGATORS = ("not", "never", "hardly")

_SHARED_POSITIVE = (
    "good",
    "great",
    "excellent",
    "wonderful",
    "solid",
    "reliable",
    "pleasant",
    "impressive",
    "lovely",
    "superb",
    "sturdy",
    "brilliant",
)
_SHARED_NEGATIVE = (
    "bad",
    "poor",
    "awful",
    "terrible",
    "flimsy",
    "disappointing",
    "useless",
    "annoying",
    "mediocre",
    "horrible",
    "weak",
    "faulty",
)
_INTENSIFIERS = ("very", "really", "quite", "so")
_CUE_OPENINGS = ("the {noun} is", "this {noun} was", "the {noun} feels", "it looks", "honestly it is")
_FILLERS = (
    "i bought the {noun} last {when}",
    "my {who} uses the {noun} every {when}",
    "the {noun} came in a {color} box",
    "we ordered it on {day}",
    "it arrived with a {noun}",
)
_SLOTS = {
    "when": ("week", "month", "year", "weekend"),
    "who": ("sister", "friend", "dad", "neighbor", "roommate"),
    "color": ("brown", "white", "blue", "plain"),
    "day": ("monday", "tuesday", "friday", "sunday"),
}
# Longest clause in words ("my friend uses the zorvik every week"): lengths can only be fitted
# between min_words and max_words when they are at least this far apart.
_LONGEST_CLAUSE = 7
# Per cue. Every negated cue misleads a bag-of-words model, so much higher rates would push the
# easy domains toward chance for such models instead of just separating them from LSTMs.
_NEGATION_RATE = 0.2
_INTENSIFIER_RATE = 0.3
_DOMAIN_WORDS = 10  # made-up positive words, negative words and nouns, each, per domain
_BUILT_IN = frozenset(
    " ".join(
        _SHARED_POSITIVE
        + _SHARED_NEGATIVE
        + _INTENSIFIERS
        + NEGATORS
        + _CUE_OPENINGS
        + _FILLERS
        + sum(_SLOTS.values(), ())
    ).split()
)


def _check(ok: bool, owner: str, field: str, value: object, rule: str) -> None:
    if not ok:
        raise ValueError(f"{owner}: {field} must be {rule}, got {value!r}")


@dataclass(frozen=True)
class DomainSpec:
    """One generated domain (one task)."""

    name: str
    """Task name; unique within a suite."""
    train_size: int
    """Number of train examples (dev and test sizes are shared, from SyntheticConfig)."""
    difficulty: float
    """0..1: more neutral filler and more conflicting sentiment cues as it grows."""
    label_noise: float
    """Probability that a train or dev label is flipped; test labels stay clean."""

    def __post_init__(self) -> None:
        owner = f"domain {self.name!r}"
        _check(bool(self.name) and not self.name.isspace(), owner, "name", self.name, "non-empty")
        _check(self.train_size > 0, owner, "train_size", self.train_size, "> 0")
        _check(0 <= self.difficulty <= 1, owner, "difficulty", self.difficulty, "in [0, 1]")
        _check(0 <= self.label_noise <= 1, owner, "label_noise", self.label_noise, "in [0, 1]")


def _domain(value: DomainSpec | Mapping) -> DomainSpec:
    if isinstance(value, DomainSpec):
        return value
    if not isinstance(value, Mapping):
        raise ValueError(
            f"synthetic config: each domain must be a DomainSpec or a JSON object, got {value!r}"
        )
    known = set(DomainSpec.__dataclass_fields__)
    if unknown := sorted(set(value) - known):
        raise ValueError(
            f"synthetic config: domain {value!r} has unknown key(s) {unknown}; known: {sorted(known)}"
        )
    if missing := sorted(known - set(value)):
        raise ValueError(f"synthetic config: domain {value!r} lacks {missing}")
    return DomainSpec(**value)


@dataclass(frozen=True)
class SyntheticConfig:
    """The generated default suite: review-like domains that need no data files."""

    domains: tuple[DomainSpec, ...] = (
        DomainSpec("books", train_size=2000, difficulty=0.1, label_noise=0.02),
        DomainSpec("electronics", train_size=800, difficulty=0.4, label_noise=0.05),
        DomainSpec("kitchen", train_size=1000, difficulty=0.8, label_noise=0.1),
        DomainSpec("toys", train_size=120, difficulty=0.3, label_noise=0.05),
    )
    """The domains, one task each: large and easy, medium, hard and noisy, small."""
    dev_size: int = 200
    """Dev examples per domain."""
    test_size: int = 400
    """Test examples per domain."""
    shared_vocab: float = 0.5
    """Fraction of sentiment words drawn from the pool shared by all domains (the rest come from
    the domain's own words)."""
    negation: bool = True
    """Negators ("not", "never", "hardly") flip the polarity of the next sentiment word."""
    min_words: int = 8
    """Shorter reviews get extra filler clauses."""
    max_words: int = 40
    """Longer reviews lose filler clauses, or are drawn again."""
    seed: int = 0
    """Seed of the word inventory and of every example; output is identical per seed."""

    def __post_init__(self) -> None:
        owner = "synthetic config"
        # Domains given as JSON objects (--option 'domains=[{"name": "a", ...}]') become DomainSpecs.
        object.__setattr__(self, "domains", tuple(_domain(d) for d in self.domains))
        _check(len(self.domains) > 0, owner, "domains", self.domains, "non-empty")
        names = [d.name for d in self.domains]
        if repeated := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"{owner}: domain names must be unique; repeated: {repeated}")
        _check(self.dev_size > 0, owner, "dev_size", self.dev_size, "> 0")
        _check(self.test_size > 0, owner, "test_size", self.test_size, "> 0")
        _check(0 <= self.shared_vocab <= 1, owner, "shared_vocab", self.shared_vocab, "in [0, 1]")
        _check(self.min_words > 0, owner, "min_words", self.min_words, "> 0")
        _check(
            self.max_words >= self.min_words + _LONGEST_CLAUSE,
            owner,
            "max_words",
            self.max_words,
            f">= min_words + {_LONGEST_CLAUSE} (the longest clause)",
        )
        _check(self.seed >= 0, owner, "seed", self.seed, ">= 0")


@dataclass(frozen=True)
class _DomainWords:
    positive: tuple[str, ...]
    negative: tuple[str, ...]
    nouns: tuple[str, ...]


def _rng(seed: int, purpose: int, domain: int = 0, split: int = 0) -> np.random.Generator:
    # One stream per (purpose, domain, split): changing one domain's spec or one split's size
    # leaves every other stream, and so every other domain's text, as it was.
    return np.random.default_rng([seed, purpose, domain, split])


def _pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _domain_words(seed: int, count: int) -> list[_DomainWords]:
    """Made-up pronounceable words, drawn domain after domain (domain i's depend on seed and i)."""
    rng = _rng(seed, purpose=0)
    taken = set(_BUILT_IN)  # no word may mean two things, in one domain or across domains

    def fresh() -> tuple[str, ...]:
        words: list[str] = []
        while len(words) < _DOMAIN_WORDS:
            word = "".join(
                _pick(rng, "bdfgklmnprstvz") + _pick(rng, "aeiou") for _ in range(int(rng.integers(2, 4)))
            )
            if word not in taken:
                taken.add(word)
                words.append(word)
        return tuple(words)

    return [_DomainWords(fresh(), fresh(), fresh()) for _ in range(count)]


def domain_lexicon(config: SyntheticConfig, index: int) -> dict[str, int]:
    """Polarity (+1 or -1) of every sentiment word that domain ``index`` of ``config`` uses."""
    words = _domain_words(config.seed, index + 1)[index]
    return {w: 1 for w in _SHARED_POSITIVE + words.positive} | {
        w: -1 for w in _SHARED_NEGATIVE + words.negative
    }


def polarity(text: str, lexicon: Mapping[str, int]) -> int:
    """Summed polarity of the sentiment words of ``text``, each flipped by a negator before it."""
    total, sign = 0, 1
    for word in text.split():
        if word in NEGATORS:
            sign = -1
        elif word in lexicon:
            total += sign * lexicon[word]
            sign = 1
    return total


def _cue(rng: np.random.Generator, effective: int, words: _DomainWords, config: SyntheticConfig) -> str:
    # Always draw, so that negation=False changes the negated cues and nothing else.
    negated = bool(rng.random() < _NEGATION_RATE) and config.negation
    positive = (effective > 0) != negated
    if rng.random() < config.shared_vocab:
        pool = _SHARED_POSITIVE if positive else _SHARED_NEGATIVE
    else:
        pool = words.positive if positive else words.negative
    parts = [_pick(rng, _CUE_OPENINGS).format(noun=_pick(rng, words.nouns))]
    negator = _pick(rng, NEGATORS)
    if negated:
        parts.append(negator)
    if rng.random() < _INTENSIFIER_RATE:
        parts.append(_pick(rng, _INTENSIFIERS))
    parts.append(_pick(rng, pool))
    return " ".join(parts)


def _filler(rng: np.random.Generator, words: _DomainWords) -> str:
    slots = {slot: _pick(rng, options) for slot, options in _SLOTS.items()}
    return _pick(rng, _FILLERS).format(noun=_pick(rng, words.nouns), **slots)


def _length(clauses: list[str]) -> int:
    return sum(len(clause.split()) for clause in clauses)


def _review(
    rng: np.random.Generator, spec: DomainSpec, words: _DomainWords, config: SyntheticConfig
) -> tuple[str, int]:
    label = int(rng.integers(2))
    sign = 1 if label else -1
    while True:
        majority = int(rng.integers(1, 4))
        minority = int(rng.binomial(majority - 1, 0.5 * spec.difficulty))
        cues = [_cue(rng, s, words, config) for s in [sign] * majority + [-sign] * minority]
        fillers = [_filler(rng, words) for _ in range(rng.poisson(4 * spec.difficulty))]
        while _length(cues + fillers) < config.min_words:
            fillers.append(_filler(rng, words))
        while fillers and _length(cues + fillers) > config.max_words:
            fillers.pop()
        if _length(cues + fillers) <= config.max_words:
            break
    clauses = cues + fillers
    return " ".join(clauses[i] for i in rng.permutation(len(clauses))), label


def synthetic_raw_tasks(config: SyntheticConfig = SyntheticConfig()) -> list[RawTask]:
    """One classification task per domain, with clean test labels and noisy train/dev labels.

    ``counts["noisy_labels"]`` is the number of flipped train and dev labels.
    """
    tasks = []
    inventory = _domain_words(config.seed, len(config.domains))
    for index, (spec, words) in enumerate(zip(config.domains, inventory, strict=True)):
        counts: Counter = Counter()
        splits = {}
        sizes = {"train": spec.train_size, "dev": config.dev_size, "test": config.test_size}
        for split_index, split in enumerate(SPLITS):
            # One stream per example: a negator's extra word changes how much filler fits, and
            # that must not shift the examples after it (negation=False keeps every label).
            streams = _rng(config.seed, 1, index, split_index).spawn(sizes[split])
            reviews = [_review(rng, spec, words, config) for rng in streams]
            texts, labels = zip(*reviews, strict=True)
            labels = list(labels)
            if split != "test":
                # Its own stream, so the texts don't depend on the noise level.
                flips = _rng(config.seed, 2, index, split_index).random(len(labels))
                flips = flips < spec.label_noise
                labels = [1 - y if flip else y for y, flip in zip(labels, flips, strict=True)]
                counts["noisy_labels"] += int(flips.sum())
            splits[split] = RawSplit(list(texts), labels, f"synthetic:{spec.name}/{split}")
        tasks.append(RawTask(spec.name, TaskKind.CLASSIFICATION, list(LABEL_NAMES), splits, counts))
    return tasks
