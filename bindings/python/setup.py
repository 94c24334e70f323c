"""Builds libami.so from the Rust crate and puts it inside the package
(setuptools-rust, Binding.NoBinding: a plain C library that ctypes loads).

From a checkout the crate is two directories up; an sdist carries a copy of
it in ``rust/`` (made by the sdist command below), so ``pip install``,
``python -m build`` and an sdist built elsewhere all compile the same code.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.sdist import sdist
from setuptools_rust import Binding, RustExtension

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parent.parent
# What cargo needs to build the library (the bench is declared in Cargo.toml).
CRATE_FILES = ["Cargo.toml", "Cargo.lock", "build.rs", "src", "benches/throughput.rs"]


def crate_manifest() -> Path:
    bundled = HERE / "rust" / "Cargo.toml"
    return bundled if bundled.exists() else CHECKOUT / "Cargo.toml"


class SdistWithCrate(sdist):
    """Puts the crate's sources into the sdist as rust/."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        source = crate_manifest().parent
        for name in CRATE_FILES:
            src, dst = source / name, Path(base_dir) / "rust" / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst, dirs_exist_ok=True)
            else:
                shutil.copy2(src, dst)


setup(
    rust_extensions=[
        RustExtension(
            "ami.libami",
            path=str(crate_manifest()),
            binding=Binding.NoBinding,
            py_limited_api=False,
        )
    ],
    cmdclass={"sdist": SdistWithCrate},
    zip_safe=False,
)
