"""The engine's rest rows as runs along the last axis: borders, and every row of a long kernel.

Part of the one index engine (:mod:`convmat._engine`): the rows outside the class blocks
are written run by run. A run is one combination of ranks on the other axes (split by mixed
radix, looked up in the per-axis tables); along the last axis its CSR offsets, columns and
taps are arithmetic progressions (zero padding), laid down by one cumulative sum each
(:func:`ragged`) in bounded chunks of about :data:`~convmat._memory.CHUNK` entries,
straight into the CSR arrays when there is one channel (:func:`write_rest`).
"""

from __future__ import annotations

import math

import numpy as np

from ._memory import CHUNK

__all__ = ["Runs", "ragged", "rest_runs", "write_rest"]


def ragged(first, lengths, step, out=None):
    """Runs ``first[u], first[u] + step, ...`` of ``lengths[u] >= 1`` entries, one after the
    other: a cumulative sum of ``step`` with a jump at every run start (into ``out`` when
    given; no nnz-sized index array)."""
    total = int(lengths.sum())
    delta = np.empty(total, dtype=np.int64) if out is None else out
    delta.fill(step)
    starts = np.cumsum(lengths) - lengths
    delta[0] = first[0]
    delta[starts[1:]] = first[1:] - (first[:-1] + (lengths[:-1] - 1) * step)
    return np.cumsum(delta, out=delta)


class Runs:
    """The entries of some rest rows for output channel 0 and input channel 0, as runs
    along the last axis: one run per combination of ranks on the other axes (split from the
    run's rank by mixed radix and looked up in the per-axis tables). Along the last axis a
    run's offsets, columns and taps are arithmetic progressions (zero padding), laid down
    by one cumulative sum each; a tabulated last axis (other modes) is looked up per entry.
    Only run-sized arrays are held; entries are made on demand.
    """

    def __init__(self, geom, axes, indptr, positions):
        unravelled = np.unravel_index(positions, geom.output_shape)
        counts = [ax.count[t] for ax, t in zip(axes, unravelled)]
        c_last = counts[-1]
        if geom.ndim == 1:
            rep = np.arange(positions.size)
            base = indptr[positions].astype(np.int64)
            column = np.zeros(positions.size, dtype=np.int64)
            tap = np.zeros(positions.size, dtype=np.int64)
        else:
            runs = np.prod(counts[:-1], axis=0, dtype=np.int64)
            rep = np.repeat(np.arange(positions.size), runs)
            rank = np.arange(rep.size, dtype=np.int64) - (np.cumsum(runs) - runs)[rep]
            base = indptr[positions].astype(np.int64)[rep] + rank * c_last[rep]
            column = np.zeros(rep.size, dtype=np.int64)
            tap = np.zeros(rep.size, dtype=np.int64)
            for a in reversed(range(geom.ndim - 1)):
                rank, r = np.divmod(rank, counts[a][rep])
                source, kernel_tap = axes[a].lookup(unravelled[a][rep], r)
                column += source * math.prod(geom.input_shape[a + 1:])
                tap += kernel_tap * math.prod(geom.kernel_shape[a + 1:])
        lengths = c_last[rep]
        keep = lengths > 0
        if not keep.all():
            rep, base, column, tap, lengths = (v[keep] for v in (rep, base, column, tap,
                                                                 lengths))
        self.last, self.t_last = axes[-1], unravelled[-1][rep]
        if self.last.table is None:  # fold the last axis's first entry into the run
            source, kernel_tap = self.last.lookup(self.t_last, 0)
            column, tap = column + source, tap + kernel_tap
        self.base, self.column0, self.tap0, self.lengths = base, column, tap, lengths
        self.size = int(lengths.sum())
        self.per_row_run = np.prod(counts, axis=0, dtype=np.int64)[rep]
        # the entries fill one range of the CSR arrays (consecutive runs, one channel)
        self.span = None
        if self.size and np.array_equal(base[1:], base[:-1] + lengths[:-1]):
            self.span = slice(int(base[0]), int(base[0]) + self.size)

    def offset(self):
        return ragged(self.base, self.lengths, 1)

    def per_row(self):
        """Entries per input channel of each entry's row."""
        return np.repeat(self.per_row_run, self.lengths)

    def _last(self, first, which, out):
        if self.last.table is None:
            _, d, _, _, flip = self.last.step
            step = d if which == 0 else (-1 if flip else 1)
            return ragged(first, self.lengths, step, out)
        r = ragged(np.zeros(first.size, dtype=np.int64), self.lengths, 1)
        looked = self.last.lookup(np.repeat(self.t_last, self.lengths), r)[which]
        looked += np.repeat(first, self.lengths)
        if out is None:
            return looked
        out[...] = looked
        return out

    def column(self, out=None):
        return self._last(self.column0, 0, out)

    def tap(self, out=None):
        return self._last(self.tap0, 1, out)


def rest_runs(geom, axes, indptr, positions):
    """The rest rows at flat output ``positions`` in chunks of about :data:`CHUNK` entries
    (whole rows): yields :class:`Runs`."""
    if positions.size == 0:
        return
    per_row = np.prod([ax.count[t] for ax, t in zip(
        axes, np.unravel_index(positions, geom.output_shape))], axis=0, dtype=np.int64)
    ends = np.cumsum(per_row)
    cuts = np.searchsorted(ends, np.arange(CHUNK, int(ends[-1]), CHUNK), side="right")
    bounds = np.unique(np.concatenate(([0], cuts, [positions.size])))
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        runs = Runs(geom, axes, indptr, positions[lo:hi])
        if runs.size:
            yield runs


def write_rest(geom, indptr, chunks, dest, kind, flat=None):
    """Write every rest entry's ``kind`` into ``dest``: its column (``"column"``), its tap
    (``"tap"``) or its value ``flat[tap]`` (``"value"``), for all channels.

    Input channels of a row share the pattern of channel 0 shifted by the row's entries per
    input channel; output channels by the channel's share of the entries, its block of taps
    and its group's columns. One channel in and out with consecutive rows: written in place
    by slices.
    """
    c_in_g = geom.in_channels // geom.groups
    c_out_g = geom.out_channels // geom.groups
    in_size, kernel_size = math.prod(geom.input_shape), math.prod(geom.kernel_shape)
    per_channel = int(indptr[-1]) // geom.out_channels
    column = kind == "column"
    # the taps of a chunk, reused (no fresh pages); intp, as np.take reads narrower
    # indices through a conversion buffer (about 10x slower)
    scratch = np.empty(0, dtype=np.intp)
    for runs in chunks:
        if geom.out_channels == 1 and c_in_g == 1 and runs.span is not None:
            if kind == "value":
                if scratch.size < runs.size:
                    scratch = np.empty(runs.size, dtype=scratch.dtype)
                # mode="clip": no bounds-check buffering (every tap is in range)
                np.take(flat, runs.tap(out=scratch[:runs.size]), out=dest[runs.span],
                        mode="clip")
            else:
                (runs.column if column else runs.tap)(out=dest[runs.span])
            continue
        offset, values = runs.offset(), (runs.column() if column else runs.tap())
        if c_in_g > 1:
            cin = np.arange(c_in_g, dtype=np.int64)[:, None]
            offset = offset + cin * runs.per_row()
            values = values + cin * (in_size if column else kernel_size)
        step = max(1, CHUNK // offset.size)
        for first in range(0, geom.out_channels, step):
            ch = np.arange(first, min(first + step, geom.out_channels), dtype=np.int64)
            ch = ch.reshape((-1,) + (1,) * offset.ndim)
            shift = (ch // c_out_g) * c_in_g * in_size if column else ch * c_in_g * kernel_size
            target = offset + ch * per_channel
            dest[target] = flat[values + shift] if kind == "value" else values + shift
