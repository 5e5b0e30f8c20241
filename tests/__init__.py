"""The test suite; it mirrors ``service/``.

The shared helpers are plain modules, so pytest is asked to rewrite their asserts too (a
failing check in a helper then shows its values, as in a test).
"""

import pytest

pytest.register_assert_rewrite("tests.factories", "tests.fakes", "tests.waiting")
