"""The repository keeps the four layers at its top level; installed, they live under the one import name
`rqledger` (rqledger.domain, rqledger.application, rqledger.adapters, rqledger.entrypoints), so that they
never shadow an app's own `domain` or `application` packages. Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

LAYERS = ("domain", "application", "adapters", "entrypoints")

packages = ["rqledger", *(f"rqledger.{name}" for name in find_packages("rqledger"))]
for layer in LAYERS:
    packages += [f"rqledger.{name}" for name in find_packages(".", include=[layer, f"{layer}.*"])]

setup(packages=packages, package_dir={"rqledger": "rqledger", **{f"rqledger.{layer}": layer for layer in LAYERS}})
