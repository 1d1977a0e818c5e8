"""The optional C extension of the send path (issue 12); everything else is in pyproject.toml.

`optional=True`: where no C compiler is found the install still succeeds and the broker serves sends with the
pure-Python fast path (same bytes, more CPU per message); tests/unit/broker/test_send_native.py says so plainly.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "rocketpy.broker._sendpath",
            ["rocketpy/broker/_sendpath.c"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
            optional=True,
        )
    ]
)
