"""C++ behaviors for noexpp: native.counter, native.hello, native.bonjour.

noexpp is imported first: its engine library (libnoexpp.so) is then loaded,
and the compiled module below, which links it, resolves to that very copy.
"""
import noexpp  # noqa: F401  (before _behaviors: it loads the engine library)

from . import _behaviors  # noqa: F401  (registers the behaviors on import)

BEHAVIORS = ("native.counter", "native.hello", "native.bonjour")
