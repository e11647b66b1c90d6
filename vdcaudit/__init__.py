"""vdcaudit: audit an Azure Virtual Datacenter and its on-premises SDN for encryption gaps."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vdcaudit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
