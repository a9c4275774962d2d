"""Uncased BERT tokenization (basic + WordPiece), dependency-free.

The SQuAD accuracy script tokenizes with ``transformers.BertTokenizer`` (the
slow, pure-Python one, ``do_lower_case=True``) to rebuild the 384-token
features whose logits LoadGen logged, and with the original Google/NVIDIA
``BasicTokenizer`` to map a predicted span back to the context text.  Both are
small deterministic algorithms, so they are re-implemented here rather than
pulling in transformers + torch:

* clean: drop NUL, U+FFFD and control characters; any whitespace -> " ";
* put spaces around CJK ideographs;
* split on whitespace; lower-case and strip accents (NFD, drop ``Mn``);
* split off every punctuation character (ASCII non-alphanumerics and Unicode
  ``P*``) as its own token;
* WordPiece: greedy longest match first, continuation pieces prefixed ``##``;
  a word with no full cover, or over 100 characters, becomes ``[UNK]``.

Lower-casing follows each path's own code: the WordPiece path lower-cases character by
character first (as transformers' ``tokenize`` does, so a word-final capital sigma becomes "σ"),
the span-projection :class:`BasicTokenizer` word by word (Google's original, giving "ς").

Known, deliberate differences from transformers (irrelevant for SQuAD text):
transformers NFC-normalises before lower-casing (NFD afterwards makes the two
equivalent for accent stripping) and splits literal special-token strings
such as ``[SEP]`` out of the text first, which :class:`WordPieceTokenizer`
also does.
"""

from __future__ import annotations

import os
import re
import unicodedata

from .log import AccuracyLogError, PathLike

__all__ = ["BasicTokenizer", "WordPieceTokenizer", "load_vocab"]

SPECIAL_TOKENS = ("[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]")


def load_vocab(path: PathLike) -> dict[str, int]:
    """Token -> id, one token per line (the line's trailing newline removed)."""
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8") as f:
            lines = f.readlines()
    except FileNotFoundError:
        raise AccuracyLogError(f"{name}: vocab file not found") from None
    return {line.rstrip("\n"): i for i, line in enumerate(lines)}


def _is_whitespace(ch: str) -> bool:
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def _is_control(ch: str) -> bool:
    # Tab/newline/CR are control characters but count as whitespace in BERT.
    return ch not in "\t\n\r" and unicodedata.category(ch).startswith("C")


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    # BERT treats every non-alphanumeric ASCII character as punctuation, even
    # those ("$", "^", "`") that Unicode does not classify as P*.
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


class BasicTokenizer:
    """Whitespace/punctuation splitting with lower-casing and accent removal."""

    def __init__(self, do_lower_case: bool = True, never_split: tuple[str, ...] = SPECIAL_TOKENS):
        self.do_lower_case = do_lower_case
        self.never_split = frozenset(never_split)

    def _clean(self, text: str) -> str:
        out = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or _is_control(ch):
                continue
            if _is_whitespace(ch):
                out.append(" ")
            elif _is_cjk(cp):
                out.append(f" {ch} ")
            else:
                out.append(ch)
        return "".join(out)

    @staticmethod
    def _strip_accents(text: str) -> str:
        return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")

    @staticmethod
    def _split_punct(word: str) -> list[str]:
        pieces: list[str] = []
        current: list[str] = []
        for ch in word:
            if _is_punctuation(ch):
                if current:
                    pieces.append("".join(current))
                    current = []
                pieces.append(ch)
            else:
                current.append(ch)
        if current:
            pieces.append("".join(current))
        return pieces

    def tokenize(self, text: str) -> list[str]:
        tokens: list[str] = []
        for word in self._clean(text).split():
            if word in self.never_split:
                tokens.append(word)
                continue
            if self.do_lower_case:
                word = self._strip_accents(word.lower())
            tokens.extend(self._split_punct(word))
        # Accent stripping can leave empty strings or whitespace; re-split.
        return " ".join(tokens).split()


class WordPieceTokenizer:
    """``BertTokenizer(vocab_file)`` equivalent: basic tokenization + WordPiece."""

    def __init__(
        self,
        vocab: dict[str, int],
        *,
        unk_token: str = "[UNK]",
        max_input_chars_per_word: int = 100,
    ) -> None:
        self.vocab = vocab
        self.unk_token = unk_token
        self.max_chars = max_input_chars_per_word
        # Special tokens are matched verbatim in the raw text and never split.
        self.basic = BasicTokenizer(do_lower_case=True, never_split=())
        self._special = re.compile("|".join(re.escape(t) for t in SPECIAL_TOKENS))
        self._cache: dict[str, list[str]] = {}

    @classmethod
    def from_file(cls, path: PathLike) -> WordPieceTokenizer:
        return cls(load_vocab(path))

    def _wordpiece(self, word: str) -> list[str]:
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        pieces: list[str] = []
        if len(word) > self.max_chars:
            pieces = [self.unk_token]
        else:
            start = 0
            while start < len(word):
                end = len(word)
                match = None
                while start < end:
                    piece = word[start:end] if start == 0 else "##" + word[start:end]
                    if piece in self.vocab:
                        match = piece
                        break
                    end -= 1
                if match is None:
                    pieces = [self.unk_token]
                    break
                pieces.append(match)
                start = end
        self._cache[word] = pieces
        return pieces

    def tokenize(self, text: str) -> list[str]:
        out: list[str] = []
        pos = 0
        for m in self._special.finditer(text):
            out.extend(self._tokenize_plain(text[pos : m.start()]))
            out.append(m.group())  # kept verbatim, like transformers' added tokens
            pos = m.end()
        out.extend(self._tokenize_plain(text[pos:]))
        return out

    def _tokenize_plain(self, text: str) -> list[str]:
        # transformers' tokenize() lower-cases the text one character at a time before the basic
        # tokenizer sees it, so a capital sigma at the end of a word becomes "σ", never the final
        # form "ς" that str.lower() gives a whole word ("ΟΔΟΣ" -> "οδοσ"). Newlines are left as
        # they are, as its regex ("." without DOTALL) does.
        text = "".join(ch if ch == "\n" else ch.lower() for ch in text)
        out: list[str] = []
        for word in self.basic.tokenize(text):
            out.extend(self._wordpiece(word))
        return out
