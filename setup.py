"""The optional C extensions of the send and pull paths (issue 12); everything else is in pyproject.toml.

`optional=True`: where no C compiler is found the install still succeeds and the broker serves sends and pulls with
the pure-Python fast paths (same bytes, more CPU per message); tests/unit/broker/data/test_send_native.py and
tests/unit/store/test_read_native.py say so plainly.
"""

from setuptools import Extension, setup

FLAGS = ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"]

setup(
    ext_modules=[
        Extension("rocketpy.broker._sendpath", ["rocketpy/broker/_sendpath.c"], extra_compile_args=FLAGS, optional=True),
        Extension("rocketpy.store._readpath", ["rocketpy/store/_readpath.c"], extra_compile_args=FLAGS, optional=True),
    ]
)
