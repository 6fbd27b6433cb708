"""LZ4 blocks against a preset dictionary by LZ4's own C functions: the bytes python-lz4 makes, at less CPU.

python-lz4's ``lz4.block`` hashes the 32 KiB dictionary into a fresh compression state on
every ``compress``, and its ``decompress`` takes LZ4's "external dictionary" path, which
checks every match for crossing from the dictionary into the output. Its extension module
exports the whole LZ4 C API, so this module calls that same code through ctypes (no other
library):

- packing loads each dictionary into a compression state once and copies that state for
  each rendition (the state is plain memory: the dictionary's hash table and a pointer to
  its bytes): the state and the call are the ones python-lz4 uses, so the blocks are the
  same bytes;
- unpacking decodes into a buffer that holds the dictionary just before the output, so that
  LZ4 takes the dictionary for the prefix of the output and decodes by its faster prefix
  path. ``LZ4_decompress_safe_usingDict`` never reads past the block nor writes past the
  capacity it is given, whatever the block holds: a damaged block is an error or wrong
  bytes (which the rendition's checksum catches), never a crash.

The working memory is per thread (gunicorn's gthread workers serve from several threads),
allocated once and kept: :data:`CAPACITY` bytes of output, and larger renditions (none of
the benchmark corpus is a tenth of that) are left to python-lz4. :func:`library` returns
None where the functions cannot be had (another build of python-lz4): packing.py then calls
python-lz4 as before.
"""
from __future__ import annotations

import ctypes
import threading
import typing as t

#: The largest rendition this module packs or unpacks; packing.py hands larger ones to python-lz4.
CAPACITY = 256 * 1024


class DamagedBlock(ValueError):
    """The LZ4 block does not decode to the size stored with it."""


class _Buffer:
    """A thread's working memory: a bytearray pinned in place, its view and its address."""

    def __init__(self, size: int) -> None:
        data = bytearray(size)
        self.pinned = (ctypes.c_char * size).from_buffer(data)  # the bytearray can no longer move
        self.view = memoryview(data)
        self.address = ctypes.addressof(self.pinned)
        # Pointers made once: ctypes passes them as they are, where argtypes would convert
        # every argument on every call (half of a call's cost).
        self.start = ctypes.c_void_p(self.address)
        self.output = self.start
        self.preset: bytes | None = None  # the dictionary an unpacking buffer holds


_threads = threading.local()


class Codec:
    """Packs and unpacks LZ4 blocks against one preset dictionary."""

    def __init__(self, lib: ctypes.CDLL, preset: bytes) -> None:
        self._preset = preset  # the loaded state points into these bytes: kept alive with it
        self._preset_size = len(preset)
        self._state_size = lib.LZ4_sizeofState()
        # The room for the block of any rendition packed here, passed as the output's capacity:
        # LZ4 writes the same block whatever the capacity, as long as it fits.
        self._bound = lib.LZ4_compressBound(CAPACITY)
        # The state with the dictionary loaded, copied for each packing (never used itself).
        self._loaded = ctypes.create_string_buffer(self._state_size)
        if not lib.LZ4_initStream(self._loaded, self._state_size):
            raise OSError("LZ4_initStream refused the state buffer")
        lib.LZ4_loadDict(self._loaded, preset, len(preset))
        self._decompress = _unchecked(lib, "LZ4_decompress_safe_usingDict")
        self._compress = _unchecked(lib, "LZ4_compress_fast_continue")

    def compress(self, data: bytes, head: bytes = b"") -> bytes | None:
        """``head``, the size of ``data`` (4 bytes, little-endian) and its LZ4 block, as python-lz4 makes them.

        None for ``data`` over :data:`CAPACITY` bytes.
        """
        if len(data) > CAPACITY:
            return None
        if len(head) > 60:
            raise ValueError("a head of at most 60 bytes")
        state_size, start = self._state_size, len(head) + 4
        buffer = getattr(_threads, "packing", None)
        if buffer is None:
            # A state, then the head and the block: room for the largest block of CAPACITY bytes.
            buffer = _threads.packing = _Buffer(state_size + 64 + self._bound)
        view = buffer.view
        view[state_size:state_size + start] = head + len(data).to_bytes(4, "little")
        # The state is at the buffer's start: LZ4_stream_t wants 8-byte alignment, which
        # the bytearray's allocation gives.
        ctypes.memmove(buffer.start, self._loaded, state_size)
        written = self._compress(buffer.start, data, ctypes.c_void_p(buffer.address + state_size + start),
                                 len(data), self._bound, 1)
        if written <= 0:
            raise ValueError("LZ4 compression failed")
        return view[state_size:state_size + start + written].tobytes()

    def decompress(self, block: bytes, size: int) -> bytes | None:
        """The ``size`` bytes the LZ4 ``block`` (without its size) decodes to; :class:`DamagedBlock` if it does not.

        None for a ``size`` over :data:`CAPACITY`.
        """
        if size > CAPACITY:
            return None
        buffer = getattr(_threads, "unpacking", None)
        if buffer is None or buffer.preset is not self._preset:
            buffer = self._unpacking_buffer()
        start = self._preset_size
        # At most `size` (<= CAPACITY) bytes are written, all after the dictionary.
        written = self._decompress(block, buffer.output, len(block), size, buffer.start, start)
        if written != size:
            raise DamagedBlock(f"the block decodes to {written} bytes, not the {size} stored with it")
        return buffer.view[start:start + size].tobytes()

    def _unpacking_buffer(self) -> _Buffer:
        # This thread's unpacking buffer, holding this dictionary. The dictionary ends where
        # the output starts: LZ4 takes it as the output's prefix. A page is in one format:
        # the dictionary is copied in when a thread changes format.
        preset = self._preset
        buffer = getattr(_threads, "unpacking", None)
        if buffer is None or len(preset) + CAPACITY > len(buffer.view):
            buffer = _threads.unpacking = _Buffer(max(32 * 1024, len(preset)) + CAPACITY)
        buffer.view[:len(preset)] = preset
        buffer.output = ctypes.c_void_p(buffer.address + len(preset))
        buffer.preset = preset
        return buffer


def _unchecked(lib: ctypes.CDLL, name: str) -> t.Any:
    # A handle on the C function of its own (lib[name] makes a new one, lib.name is shared),
    # without argtypes: returns an int, takes c_void_p, bytes and int arguments as they come.
    function = lib[name]
    function.restype = ctypes.c_int
    return function


#: The functions called with argtypes (once per dictionary or per call of a cheap one): (restype, argtypes).
_SIGNATURES: dict[str, tuple[t.Any, list[t.Any]]] = {
    "LZ4_sizeofState": (ctypes.c_int, []),
    "LZ4_compressBound": (ctypes.c_int, [ctypes.c_int]),
    "LZ4_initStream": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_size_t]),
    "LZ4_loadDict": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]),
}


def library() -> ctypes.CDLL | None:
    """python-lz4's extension module opened for its LZ4 functions, or None if it lacks them."""
    try:
        import lz4.block._block as extension  # type: ignore[import-untyped]

        lib = ctypes.CDLL(extension.__file__)
        for name, (restype, argtypes) in _SIGNATURES.items():
            function = getattr(lib, name)
            function.restype, function.argtypes = restype, argtypes
        for name in ("LZ4_decompress_safe_usingDict", "LZ4_compress_fast_continue"):
            getattr(lib, name)
    except (ImportError, OSError, AttributeError):
        return None
    return lib
