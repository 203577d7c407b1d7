# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input checks that run before any request. Each raises ``ValidationError`` whose message
starts with the option it is about (``vlan_id: 5000 is not in 1-4094``), so a bad inventory
fails with a line the user can act on and nothing is sent to the cluster.

Addresses use the standard library's ``ipaddress``: it is always there (no import guard, no
missing-library failure) and costs less to import than netaddr, which matters because imports
are most of what a task costs.
"""

from __future__ import annotations

import ipaddress
import re

from .errors import HarvesterError

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
MAX_LABEL = 63
MAX_CLUSTER_NETWORK = 12  # the bridge "<name>-br" must fit Linux's 15-character device names
VLAN_MIN, VLAN_MAX = 1, 4094
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
MAX_SUBDOMAIN = 253
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
MAX_LABEL_VALUE = 63


class ValidationError(HarvesterError):
    """A module option is wrong; ``option`` names it."""

    def __init__(self, option, message):
        super().__init__(f"{option}: {message}")
        self.option = option

    def as_dict(self):
        return {"option": self.option}


def _dns_name(value, option, pattern, max_length, characters, why=""):
    """A DNS-1123 name (``pattern``): not empty, at most ``max_length`` characters of ``characters``."""
    text = "" if value is None else str(value)
    if not text:
        raise ValidationError(option, "must not be empty")
    if len(text) > max_length:
        raise ValidationError(option, f"{text!r} is {len(text)} characters, at most {max_length} are allowed{why}")
    if not pattern.match(text):
        raise ValidationError(option, f"{text!r} is not a valid name ({characters}, starting and ending with a letter or digit)")
    return text


def name(value, option="name", max_length=MAX_LABEL, why=""):
    """A DNS-1123 label: lower-case letters, digits and '-', starting and ending alphanumeric."""
    return _dns_name(value, option, DNS1123_LABEL, max_length, "lower-case letters, digits and '-'", why)


def subdomain(value, option):
    """A DNS-1123 subdomain (an object name: labels separated by dots, at most 253 characters)."""
    return _dns_name(value, option, DNS1123_SUBDOMAIN, MAX_SUBDOMAIN, "lower-case letters, digits, '-' and '.'")


def label_value(value, option):
    """A Kubernetes label value: at most 63 characters, alphanumerics, '-', '_' and '.', starting
    and ending alphanumeric (or empty)."""
    text = str(value)
    if len(text) > MAX_LABEL_VALUE:
        raise ValidationError(option, f"{text!r} is {len(text)} characters, a label value has at most {MAX_LABEL_VALUE}")
    if not LABEL_VALUE.match(text):
        raise ValidationError(option, f"{text!r} is not a valid label value (letters, digits, '-', '_' and '.', "
                                      "starting and ending with a letter or digit)")
    return text


def label_key(key, option):
    """A label key: an optional DNS subdomain prefix and '/', then a name of at most 63 characters."""
    text = str(key)
    prefix, slash, name = text.rpartition("/")
    if slash and (not prefix or len(prefix) > MAX_SUBDOMAIN or not DNS1123_SUBDOMAIN.match(prefix)):
        raise ValidationError(option, f"{text!r} has an invalid prefix (a DNS subdomain such as example.com)")
    if not name or len(name) > MAX_LABEL_VALUE or not LABEL_NAME.match(name):
        raise ValidationError(option, f"{text!r} is not a valid label key (at most 63 letters, digits, '-', '_' "
                                      "and '.' after the optional prefix, starting and ending with a letter or digit)")
    return text


def labels(value, option="labels", reserved=()):
    """A dict of label key -> value (``None`` removes a label); keys in ``reserved`` are the
    server's (``{key: why}``) and refused."""
    if not isinstance(value, dict):
        raise ValidationError(option, f"must be a dict of label key to value, got {type(value).__name__}")
    for key, text in value.items():
        label_key(key, option)
        if key in reserved:
            raise ValidationError(option, f"{key} {reserved[key]}")
        if text is not None:
            label_value(text, f"{option}.{key}")
    return value


def int_range(value, option, low, high):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(option, f"{value} is not in {low}-{high}")
    return value


def vlan_id(value, option="vlan_id"):
    return int_range(value, option, VLAN_MIN, VLAN_MAX)


def writable_directory(path, option, create=False):
    """``path`` is (with ``create``: can become) a directory this process may write into: checked
    before any request, so a run never does its work and then fails to save the result."""
    import os
    path = os.path.abspath(os.path.expanduser(str(path)))
    existing = path
    while not os.path.exists(existing):
        if not create:
            raise ValidationError(option, f"directory {existing} does not exist")
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ValidationError(option, f"{existing} is a file, not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValidationError(option, f"directory {existing} is not writable")
    return path


def positive(value, option):
    if value is None or value <= 0:
        raise ValidationError(option, f"{value} must be more than 0")
    return value


def wait_timeout(params):
    """The wait option group's ``wait_timeout``, when given, is more than 0 seconds."""
    if params.get("wait_timeout") is not None:
        positive(params["wait_timeout"], "wait_timeout")


def ip(value, option):
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        raise ValidationError(option, f"{value!r} is not an IP address") from None


def cidr(value, option):
    """A network in CIDR notation with a non-zero prefix (host bits allowed, as Harvester's
    ``net.ParseCIDR`` does); returns the ``ip_network``."""
    text = str(value)
    addr, slash, prefix = text.partition("/")
    try:
        if not slash or not prefix.isdigit():
            raise ValueError
        ipaddress.ip_address(addr)
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValidationError(option, f"{text!r} is not a CIDR such as 10.10.30.0/24") from None
    if network.prefixlen == 0:
        raise ValidationError(option, f"{text!r} has a zero-length prefix")
    return network


def gateway_in(value, network, option, network_option):
    address = ip(value, option)
    if address not in network:
        raise ValidationError(option, f"{value} is not inside {network_option} {network}")
    return address


def route(value, option="route"):
    """A VM network's route (``mode`` auto|manual, ``cidr``, ``gateway``, ``dhcp_server``):
    manual needs a CIDR and a gateway inside it; auto learns both by DHCP, so they are refused."""
    mode = value.get("mode")
    given = {k for k in ("cidr", "gateway") if value.get(k)}
    if mode == "manual":
        for key in ("cidr", "gateway"):
            if key not in given:
                raise ValidationError(f"{option}.{key}", "is required when route.mode is manual")
        network = cidr(value["cidr"], f"{option}.cidr")
        gateway_in(value["gateway"], network, f"{option}.gateway", f"{option}.cidr")
    elif given:
        key = sorted(given)[0]
        raise ValidationError(f"{option}.{key}", f"only with route.mode manual (mode {mode} learns it by DHCP)")
    if value.get("dhcp_server"):
        ip(value["dhcp_server"], f"{option}.dhcp_server")
    return value
