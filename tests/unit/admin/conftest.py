"""The rocketpy.testing fixtures, imported explicitly: the pytest11 entry point only works once the package is
(re)installed, and these tests must also run from a plain checkout."""

from rocketpy.testing import rocketpy_namesrv, rocketpy_server

__all__ = ["rocketpy_namesrv", "rocketpy_server"]
