"""Matching OCR candidates against every active hotlist entry, in memory.

The index is built once from the database (about 3 s for 1,000,000 entries)
and answers a read in well under a millisecond:

- every plain entry sits in one dict under its *folded* key (each character
  replaced by its OCR confusion class, see plates.py). A candidate's folded
  key finds exact hits and confused ones in one lookup; the raw text then
  tells them apart.
- one extra character in the candidate: look up its one-deletion keys.
- one missing character: look up its one-insertion keys (positions x folded
  alphabet, a couple of hundred lookups). This costs no memory, unlike a
  deletion index of every entry.
- wildcard patterns (officer-entered partial plates, few) are a short list of
  regexes tried against the raw and the folded candidate.

Quality: exact 1.0; confusion-only 0.9 down; wildcard 0.6-0.95; one
character missing or extra 0.8 down. Expired entries are skipped at match
time, so a stale index never alerts on an expired entry.

The index is rebuilt when a list changes: in this process at once
(`refresh()`), in other processes by a generation token in the Setting table
that `get_matcher()` checks every few seconds and rebuilds in the background.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
import uuid
from array import array
from dataclasses import dataclass

import numpy as np

from gateway.hotlist.plates import FOLD_TABLE as _FOLD_TABLE
from gateway.hotlist.plates import FOLDED_ALPHABET, fold, normalize, pattern_regex
from gateway.store.models import HotlistEntry, HotlistList, Setting, database, utcnow

logger = logging.getLogger(__name__)

GENERATION_KEY = "hotlist.generation"
CHECK_EVERY_S = 2.0
KIND_RANK = {"exact": 0, "wildcard": 1, "fuzzy": 2}


@dataclass(frozen=True)
class Hit:
    list: str
    entry: str  # the entry's plate or pattern
    entry_id: int
    kind: str  # exact | wildcard | fuzzy
    quality: float
    priority: int  # the list's priority, 1 = highest
    covert: bool
    from_clets: bool
    matched_text: str  # the OCR candidate that hit
    list_id: int

    def as_dict(self) -> dict:
        return {"list": self.list, "entry": self.entry, "kind": self.kind,
                "quality": round(self.quality, 3)}


@dataclass(frozen=True)
class _ListInfo:
    name: str
    priority: int
    covert: bool
    from_clets: bool


@dataclass(frozen=True)
class _Pattern:
    idx: int
    raw: object
    folded: object
    fixed: int  # characters that are not wildcards
    min_len: int
    max_len: int  # of a plate the pattern can match


_BASE = 37  # a folded key as a number: character codes 1..36 in base 37, exact up to 12 characters
_SLOT_BITS = 26
_MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing of that number to a bitmap slot
_CODES = {ch: i + 1 for i, ch in enumerate(FOLDED_ALPHABET)}


def _code(key: str) -> int:
    code, power = 0, 1
    for ch in key[:10]:
        code += _CODES.get(ch, 0) * power
        power *= _BASE
    return code


def _slot(code: int) -> int:
    return ((code * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF) >> (64 - _SLOT_BITS)


def _parse_time(value) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


class Matcher:
    """An immutable-by-convention index of active entries; `add()` for single officer entries."""

    def __init__(self) -> None:
        self._lists: dict[int, _ListInfo] = {}
        self._ids = array("q")
        self._plates: list[str] = []
        self._list_of = array("i")
        self._expires: dict[int, dt.datetime] = {}
        self._fold: dict[str, int | list[int]] = {}
        self._patterns: list[_Pattern] = []
        self._any_pattern: tuple | None = None  # (raw, folded) alternations of every pattern
        self._shortened: bytearray | None = None  # see _build_shortened_filter
        self.generation = ""

    def __len__(self) -> int:
        return len(self._plates)

    @classmethod
    def load(cls) -> Matcher:
        """Build the index from every unexpired entry of every list."""
        started = time.monotonic()
        m = cls()
        m.generation = current_generation()
        for row in HotlistList.select():
            m._lists[row.id] = _ListInfo(row.name, row.priority, row.covert, row.from_clets)
        now = str(utcnow())
        cursor = database.execute_sql(
            "SELECT id, plate, hotlist_id, is_pattern, expires_at FROM hotlist_entry "
            "WHERE expires_at IS NULL OR expires_at > ?", (now,))
        # Local names in the loop: a million iterations make each lookup count.
        ids, plates, list_of, index = m._ids, m._plates, m._list_of, m._fold
        translate, fold_table = str.translate, _FOLD_TABLE
        while rows := cursor.fetchmany(100_000):
            for entry_id, plate, list_id, pattern, expires in rows:
                if pattern or expires is not None:
                    m._add(entry_id, plate, list_id, bool(pattern), expires)
                    continue
                idx = len(plates)
                ids.append(entry_id)
                plates.append(plate)
                list_of.append(list_id)
                key = translate(plate, fold_table)
                prev = index.get(key)
                if prev is None:
                    index[key] = idx
                elif prev.__class__ is list:
                    prev.append(idx)
                else:
                    index[key] = [prev, idx]
        m._build_shortened_filter()
        logger.info("hotlist index: %d entries, %d patterns, built in %.2f s",
                    len(m), len(m._patterns), time.monotonic() - started)
        return m

    def add(self, entry: HotlistEntry) -> None:
        """Add one new entry (an officer's "new wanted") without a rebuild."""
        lst = entry.hotlist
        self._lists[lst.id] = _ListInfo(lst.name, lst.priority, lst.covert, lst.from_clets)
        self._add(entry.id, entry.plate, lst.id, entry.is_pattern, entry.expires_at)

    def _add(self, entry_id, plate, list_id, pattern, expires) -> None:
        idx = len(self._plates)
        self._ids.append(entry_id)
        self._plates.append(plate)
        self._list_of.append(list_id)
        if expires is not None:
            self._expires[idx] = _parse_time(expires)
        if pattern:
            fixed = sum(1 for ch in plate if ch not in "*?")
            min_len = len(plate.replace("*", ""))
            max_len = 99 if "*" in plate else min_len
            self._patterns.append(_Pattern(idx, pattern_regex(plate), pattern_regex(plate, True),
                                           fixed, min_len, max_len))
            self._any_pattern = None
            return
        key = fold(plate)
        if self._shortened is not None:
            for i in range(len(key)):
                slot = _slot(_code(key[:i] + key[i + 1:]))
                self._shortened[slot >> 3] |= 1 << (slot & 7)
        prev = self._fold.get(key)
        if prev is None:
            self._fold[key] = idx
        elif isinstance(prev, list):
            prev.append(idx)
        else:
            self._fold[key] = [prev, idx]

    def _lookup(self, key: str):
        found = self._fold.get(key)
        if found is None:
            return ()
        return found if isinstance(found, list) else (found,)

    def match(self, candidates: list[str], now: dt.datetime | None = None) -> list[Hit]:
        """Every active entry any candidate matches, best first, one hit per entry."""
        best: dict[int, tuple[float, str, int, str]] = {}
        get = self._fold.get  # the hot loop below probes this a few hundred times per read
        contains = self._fold.__contains__
        plates = self._plates
        seen: set[str] = set()

        def offer(found, quality_of, kind: str, rank: int, text: str) -> None:
            for idx in (found if isinstance(found, list) else (found,)):
                quality = quality_of(plates[idx])
                held = best.get(idx)
                if held is None or quality > held[0]:
                    best[idx] = (quality, kind, rank, text)

        any_raw, any_folded = self._pattern_alternations()
        for rank, raw in enumerate(candidates):
            cand = normalize(raw)
            if not cand or cand in seen:
                continue
            seen.add(cand)
            folded = fold(cand)
            n = len(cand)
            found = get(folded)
            if found is not None:
                for idx in (found if isinstance(found, list) else (found,)):
                    plate = plates[idx]
                    if plate == cand:
                        quality, kind = 1.0, "exact"
                    else:
                        diffs = sum(1 for a, b in zip(plate, cand, strict=True) if a != b)
                        quality, kind = max(0.5, 0.9 - 0.1 * (diffs - 1)), "fuzzy"
                    held = best.get(idx)
                    if held is None or quality > held[0]:
                        best[idx] = (quality, kind, rank, cand)
            if n >= 5:  # one extra character in the candidate
                for i in range(n):
                    found = get(folded[:i] + folded[i + 1:])
                    if found is not None:
                        rest = cand[:i] + cand[i + 1:]
                        offer(found, lambda plate, rest=rest: self._indel_quality(plate, rest),
                              "fuzzy", rank, cand)
            if n >= 4 and self._may_be_shortened(folded):  # one character missing from the candidate
                for i in range(n + 1):
                    head, tail = folded[:i], folded[i:]
                    # Build the keys and test them in C: most of a read's probing happens here.
                    for key in filter(contains, [head + ch + tail for ch in FOLDED_ALPHABET]):
                        offer(get(key), lambda plate, i=i, cand=cand: self._indel_quality(
                            plate[:i] + plate[i + 1:], cand), "fuzzy", rank, cand)
            if not self._patterns or not any_raw.match(cand) and not any_folded.match(folded):
                continue  # one regex in C rules out every pattern for most candidates
            for pat in self._patterns:
                if not pat.min_len <= n <= pat.max_len:
                    continue
                if pat.raw.match(cand):
                    quality = min(0.95, 0.6 + 0.35 * pat.fixed / n)
                elif pat.folded.match(folded):
                    quality = min(0.8, 0.45 + 0.35 * pat.fixed / n)
                else:
                    continue
                held = best.get(pat.idx)
                if held is None or quality > held[0]:
                    best[pat.idx] = (quality, "wildcard", rank, cand)
        if not best:
            return []
        return self._hits(best, now or utcnow())

    def _build_shortened_filter(self) -> None:
        """A bitmap of every entry's one-character-deleted keys (hashed; 8 MB).

        The candidate-is-missing-a-character test probes a couple of hundred
        keys per candidate; one bit tells first whether any entry shortened
        by one character reads like the candidate. A false positive (about
        one in ten at a million entries) only costs the full probe; there are
        no false negatives. Built with numpy in about a second.
        """
        bits = np.zeros(1 << _SLOT_BITS, np.bool_)
        keys = list(self._fold)
        width = 10  # plates are at most 10 characters (plates.valid_plate)
        table = np.zeros(256, np.uint64)
        for i, ch in enumerate(FOLDED_ALPHABET):
            table[ord(ch)] = i + 1
        powers = np.array([_BASE ** j for j in range(width)], np.uint64)
        for start in range(0, len(keys), 200_000):
            chunk = keys[start:start + 200_000]
            raw = "".join(k[:width].ljust(width, "\0") for k in chunk).encode("latin-1", "replace")
            arr = np.frombuffer(raw, np.uint8).reshape(-1, width)
            digits = table[arr]
            lengths = (arr != 0).sum(axis=1)
            for i in range(width):
                code = ((digits[:, :i] * powers[:i]).sum(axis=1, dtype=np.uint64)
                        + (digits[:, i + 1:] * powers[i:width - 1]).sum(axis=1, dtype=np.uint64))
                bits[(code[lengths > i] * _MIX) >> np.uint64(64 - _SLOT_BITS)] = True
        self._shortened = bytearray(np.packbits(bits, bitorder="little").tobytes())

    def _may_be_shortened(self, folded: str) -> bool:
        if self._shortened is None:
            return True
        slot = _slot(_code(folded))
        return bool(self._shortened[slot >> 3] >> (slot & 7) & 1)

    def _pattern_alternations(self) -> tuple:
        alternations = self._any_pattern
        if alternations is None:
            patterns = self._patterns or []
            alternations = self._any_pattern = (
                re.compile("|".join(f"(?:{p.raw.pattern})" for p in patterns) or "(?!)"),
                re.compile("|".join(f"(?:{p.folded.pattern})" for p in patterns) or "(?!)"))
        return alternations

    def _hits(self, best: dict, now: dt.datetime) -> list[Hit]:
        hits = []
        seen: set[tuple[int, str]] = set()
        ranked = sorted(best.items(), key=lambda item: (-item[1][0], KIND_RANK[item[1][1]],
                                                        item[1][2]))
        for idx, (quality, kind, rank, text) in ranked:
            expires = self._expires.get(idx)
            if expires is not None and expires <= now:
                continue
            list_id = self._list_of[idx]
            info = self._lists.get(list_id)
            # A plate listed twice on one list (two states, say) is one hit.
            if info is None or (list_id, self._plates[idx]) in seen:
                continue
            seen.add((list_id, self._plates[idx]))
            hits.append((rank, Hit(info.name, self._plates[idx], self._ids[idx], kind, quality,
                                   info.priority, info.covert, info.from_clets, text, list_id)))
        hits.sort(key=lambda rh: (-rh[1].quality, KIND_RANK[rh[1].kind], rh[1].priority, rh[0]))
        return [hit for _, hit in hits]

    @staticmethod
    def _indel_quality(a: str, b: str) -> float:
        # a and b are the same length once the extra character is taken out;
        # any remaining difference is an OCR confusion.
        diffs = sum(1 for x, y in zip(a, b, strict=True) if x != y)
        return max(0.4, 0.8 - 0.1 * diffs)


# -- the process's current index -------------------------------------------------

_lock = threading.Lock()
_current: Matcher | None = None
_checked_at = 0.0
_rebuilding: threading.Thread | None = None


def current_generation() -> str:
    row = Setting.get_or_none(Setting.key == GENERATION_KEY)
    return (row.value or "") if row else ""


def bump_generation() -> str:
    """Mark the lists changed (call inside the changing transaction)."""
    token = uuid.uuid4().hex
    Setting.insert(key=GENERATION_KEY, value=token, updated_at=utcnow()).on_conflict(
        conflict_target=[Setting.key], update={Setting.value: token, Setting.updated_at: utcnow()}
    ).execute()
    return token


def refresh() -> Matcher:
    """Rebuild the index now and make it current."""
    global _current, _checked_at
    matcher = Matcher.load()
    with _lock:
        _current = matcher
        _checked_at = time.monotonic()
    return matcher


def entry_added(entry: HotlistEntry) -> None:
    """An entry was added in this process: extend the current index in place."""
    global _checked_at
    with _lock:
        if _current is None:
            return
        _current.add(entry)
        _current.generation = current_generation()
        _checked_at = time.monotonic()


def is_loaded() -> bool:
    return _current is not None


def reset() -> None:
    """Forget the index (another database was opened, e.g. in tests)."""
    global _current, _checked_at
    with _lock:
        _current = None
        _checked_at = 0.0


def get_matcher() -> Matcher:
    """The current index; rebuilt in the background when another process changed a list."""
    global _checked_at, _rebuilding
    with _lock:
        current = _current
    if current is None:
        return refresh()
    if time.monotonic() - _checked_at > CHECK_EVERY_S:
        _checked_at = time.monotonic()
        if current_generation() != current.generation and (
                _rebuilding is None or not _rebuilding.is_alive()):
            _rebuilding = threading.Thread(target=_rebuild_quietly, name="hotlist-index", daemon=True)
            _rebuilding.start()
    return current


def _rebuild_quietly() -> None:
    try:
        refresh()
    except Exception:  # noqa: BLE001 - the old index keeps serving; try again on the next check
        logger.exception("hotlist index rebuild failed; the previous index stays in use")


def match_entry(plate: str, pattern: bool, candidates: list[str]) -> tuple[str, float, str] | None:
    """One entry against one read's candidates, by the same rules as Matcher.match.

    Used to check a new officer entry against stored reads. Returns the best
    (kind, quality, matched candidate), or None.
    """
    best: tuple[str, float, str] | None = None
    folded_plate = fold(plate)
    regexes = (pattern_regex(plate), pattern_regex(plate, True)) if pattern else None
    fixed = sum(1 for ch in plate if ch not in "*?")
    for raw in candidates:
        cand = normalize(raw)
        if not cand:
            continue
        folded = fold(cand)
        n = len(cand)
        found: tuple[str, float] | None = None
        if regexes is not None:
            if regexes[0].match(cand):
                found = ("wildcard", min(0.95, 0.6 + 0.35 * fixed / n))
            elif regexes[1].match(folded):
                found = ("wildcard", min(0.8, 0.45 + 0.35 * fixed / n))
        elif plate == cand:
            found = ("exact", 1.0)
        elif folded == folded_plate:
            diffs = sum(1 for a, b in zip(plate, cand, strict=True) if a != b)
            found = ("fuzzy", max(0.5, 0.9 - 0.1 * (diffs - 1)))
        elif n == len(plate) + 1 and n >= 5:
            for i in range(n):
                if folded[:i] + folded[i + 1:] == folded_plate:
                    quality = Matcher._indel_quality(plate, cand[:i] + cand[i + 1:])
                    found = max(found or ("fuzzy", 0.0), ("fuzzy", quality), key=lambda f: f[1])
        elif n == len(plate) - 1 and n >= 4:
            for i in range(len(plate)):
                if folded_plate[:i] + folded_plate[i + 1:] == folded:
                    quality = Matcher._indel_quality(plate[:i] + plate[i + 1:], cand)
                    found = max(found or ("fuzzy", 0.0), ("fuzzy", quality), key=lambda f: f[1])
        if found and (best is None or found[1] > best[1]):
            best = (found[0], found[1], cand)
    return best
