"""Preallocated frame buffers: captured frames wait here until they are sent.

All buffers are allocated once, at boot. When every slot is taken, the
oldest waiting frame is dropped (and counted) to make room for the newest:
a fresh vehicle matters more than a stale one.
"""


class FramePool:
    def __init__(self, slots, size):
        self.bufs = [bytearray(size) for _ in range(slots)]
        self.views = [memoryview(b) for b in self.bufs]
        self.lens = [0] * slots
        self.meta = [None] * slots
        self.free = list(range(slots))
        self.waiting = []  # committed slots, oldest first
        self.drops = 0

    def take(self):
        """A slot to capture into, or -1 (counted as a drop) if none can be freed."""
        if self.free:
            return self.free.pop()
        if self.waiting:
            self.drops += 1
            return self.waiting.pop(0)
        self.drops += 1
        return -1

    def commit(self, slot, n, meta):
        self.lens[slot] = n
        self.meta[slot] = meta
        self.waiting.append(slot)

    def next(self):
        """The oldest waiting slot, now owned by the caller; -1 if none."""
        if self.waiting:
            return self.waiting.pop(0)
        return -1

    def release(self, slot):
        self.meta[slot] = None
        self.lens[slot] = 0
        self.free.append(slot)
