"""Suite-wide settings. Hypothesis's per-example deadline (200 ms by default) is a timed assertion, and on a loaded
2-core machine a slow example fails a test that found no bug: the suite asserts behaviour, never speed."""

from hypothesis import settings

settings.register_profile("rocketpy", deadline=None)
settings.load_profile("rocketpy")
