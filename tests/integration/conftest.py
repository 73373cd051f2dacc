from tests.testhosts.fixtures import lab_factory  # noqa: F401  (fixture)
