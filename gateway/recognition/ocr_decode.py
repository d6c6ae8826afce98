"""CTC decoding in numpy: best path, k-best prefix beam search, per-character confidence.

Input everywhere: `probs`, a (time, classes) array of per-step class
probabilities with class 0 the CTC blank and class i the character
`alphabet[i - 1]`.
"""

from __future__ import annotations

import math

import numpy as np

BLANK = 0


def best_path(probs: np.ndarray, alphabet: str) -> str:
    """Greedy CTC decoding: the most likely class per step, repeats merged, blanks dropped."""
    best = probs.argmax(axis=1)
    out, prev = [], BLANK
    for k in best:
        if k != prev and k != BLANK:
            out.append(alphabet[k - 1])
        prev = k
    return "".join(out)


def beam_search(
    probs: np.ndarray, alphabet: str, beam: int = 8, k: int = 5, min_prob: float = 1e-3, per_step: int = 3
) -> list[tuple[str, float]]:
    """The k most likely label sequences with their probabilities (prefix beam search).

    Each label's probability sums over all CTC paths that spell it. Only
    characters above `min_prob` (at most `per_step` of them) extend a prefix
    at a step: a plate's frames are mostly confident, so this keeps the
    search to a few hundred operations. Python floats, not numpy scalars,
    in the inner loop: it runs once per plate on the car computer.
    """
    rows = probs.astype(np.float64).tolist()
    order = (np.argsort(-probs[:, 1:], axis=1)[:, :per_step] + 1).tolist()
    beams: dict[tuple, list[float]] = {(): [1.0, 0.0]}  # prefix -> [p ends in blank, p ends in char]
    for p, top in zip(rows, order, strict=True):
        cands = [c for c in top if p[c] >= min_prob]
        p_blank = p[BLANK]
        nxt: dict[tuple, list[float]] = {}
        for prefix, (pb, pnb) in beams.items():
            total = pb + pnb
            entry = nxt.setdefault(prefix, [0.0, 0.0])
            entry[0] += total * p_blank
            last = prefix[-1] if prefix else None
            if last is not None:
                entry[1] += pnb * p[last]  # the same character held over another step
            for c in cands:
                ext = nxt.setdefault(prefix + (c,), [0.0, 0.0])
                # a repeated letter needs a blank in between, so only pb extends it
                ext[1] += (pb if c == last else total) * p[c]
        if len(nxt) > beam:  # (sorting a few dozen beams is quicker than a heap)
            nxt = dict(sorted(nxt.items(), key=_beam_total, reverse=True)[:beam])
        beams = nxt
    ranked = sorted(beams.items(), key=_beam_total, reverse=True)
    out = [("".join(alphabet[c - 1] for c in prefix), pb + pnb) for prefix, (pb, pnb) in ranked[:k]]
    if len(out) < k:
        out = _pad_with_substitutions(probs, alphabet, out, k)
    return out


def _beam_total(item) -> float:
    return item[1][0] + item[1][1]


def _pad_with_substitutions(probs, alphabet, found, k):
    """Confident plates leave few beams: add one-character substitutions of the best text.

    The substitute at a character takes the step where that character peaks
    and swaps in the next most likely class there, scaled by the ratio of the
    two probabilities there.
    """
    if not found:
        return found
    best_text, best_p = found[0]
    seen = {t for t, _ in found}
    spans = char_steps(probs, best_text, alphabet)
    extra = []
    for i, step in enumerate(spans):
        row = probs[step].copy()
        own = alphabet.index(best_text[i]) + 1
        row[[BLANK, own]] = 0.0
        for alt in np.argsort(-row)[:3]:
            text = best_text[:i] + alphabet[alt - 1] + best_text[i + 1 :]
            if text not in seen:
                extra.append((text, best_p * row[alt] / max(probs[step, own], 1e-12)))
                seen.add(text)
    extra.sort(key=lambda tp: tp[1], reverse=True)
    # a substitution's estimate can exceed a beam's probability (the character it replaces need
    # not be the likeliest at its peak): all are sorted again, so candidates fall in order
    return sorted(found + extra[: k - len(found)], key=lambda tp: tp[1], reverse=True)


def aligned_steps(probs: np.ndarray, text: str, alphabet: str) -> list[int]:
    """For each character of `text`, the step where it is most probable on the best CTC alignment.

    A Viterbi pass over the usual blank-interleaved label (length 2L+1), in
    plain Python over lists: at 32 steps and at most 21 states, five times
    quicker than numpy's per-step array calls.
    """
    if not text:
        return []
    labels = [alphabet.index(c) + 1 for c in text]
    ext = [BLANK]
    for c in labels:
        ext += [c, BLANK]
    S, T = len(ext), probs.shape[0]
    logp = np.log(np.maximum(probs[:, ext], 1e-30)).tolist()
    # a step may skip the blank between two different characters
    can_skip = [s >= 2 and ext[s] != BLANK and ext[s] != ext[s - 2] for s in range(S)]
    score = [-math.inf] * S
    score[0] = logp[0][0]
    if S > 1:
        score[1] = logp[0][1]
    back = []  # back[t - 1][s]: the state at step t - 1 on the best path into s at step t
    for t in range(1, T):
        row, new, came = logp[t], [0.0] * S, [0] * S
        for s in range(S):
            best, prev = score[s], s  # ties keep the state, then the one before
            if s >= 1 and score[s - 1] > best:
                best, prev = score[s - 1], s - 1
            if can_skip[s] and score[s - 2] > best:
                best, prev = score[s - 2], s - 2
            new[s], came[s] = best + row[s], prev
        back.append(came)
        score = new
    state = S - 1 if S == 1 or score[S - 1] >= score[S - 2] else S - 2
    path = [state]
    for t in range(T - 1, 0, -1):
        state = back[t - 1][state]
        path.append(state)
    path.reverse()
    best_step = [-1] * len(text)
    for t, s in enumerate(path):
        if s % 2 == 1:
            i = s // 2
            if best_step[i] < 0 or probs[t, ext[s]] > probs[best_step[i], ext[s]]:
                best_step[i] = t
    # a character the alignment could not place (too few steps) peaks anywhere
    for i, step in enumerate(best_step):
        if step < 0:
            best_step[i] = int(probs[:, labels[i]].argmax())
    return best_step


def _greedy_steps(probs: np.ndarray) -> list[int]:
    """For each character of the best path, the step of its run where it peaks."""
    best = probs.argmax(axis=1)
    steps, prev = [], BLANK
    for t, k in enumerate(best.tolist()):
        if k != BLANK and k != prev:
            steps.append(t)
        elif k != BLANK and probs[t, k] > probs[steps[-1], k]:
            steps[-1] = t
        prev = k
    return steps


def char_steps(probs: np.ndarray, text: str, alphabet: str) -> list[int]:
    """For each character of `text`, the step where it is read: from the best path's runs when
    `text` is the best path (nearly always, and far quicker), else from a Viterbi alignment."""
    return _greedy_steps(probs) if best_path(probs, alphabet) == text else aligned_steps(probs, text, alphabet)


def char_positions(steps: list[int], n_steps: int) -> list[float]:
    """Each character's centre across the crop, as a share of its width (0..1), from its step
    (the model's steps divide the crop's width evenly)."""
    return [(s + 0.5) / n_steps for s in steps]


def char_confidences(probs: np.ndarray, text: str, alphabet: str, steps: list[int] | None = None) -> list[float]:
    """Per character of `text`: its probability over its best-aligned step and the steps beside it.

    The steps come from `char_steps` unless given. The neighbours count
    because the shipped OCR averages two networks that may place the same
    character one step apart: each step then holds half of a sure character,
    which read alone as 0.5 made every format swap look free.
    """
    if steps is None:
        steps = char_steps(probs, text, alphabet)
    out = []
    for s, c in zip(steps, text, strict=True):
        k = alphabet.index(c) + 1
        out.append(min(1.0, float(probs[max(0, s - 1) : s + 2, k].sum())))
    return out
