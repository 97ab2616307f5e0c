"""Name formats with apimachinery's messages (util/validation/validation_test.go cases)."""
from __future__ import annotations

import pytest

from pykube_plane.api.names import (is_config_map_key, is_dns1035_label, is_dns1123_label, is_dns1123_subdomain,
                                    is_env_var_name, is_valid_path_segment_name, is_valid_percent,
                                    is_valid_port_name, is_valid_port_num, name_is_dns_subdomain,
                                    name_is_path_segment)


@pytest.mark.parametrize("value", ["a", "ab", "abc", "a1", "a-1", "a--1--2--b", "0", "01", "012", "1a", "1-a",
                                   "1--a--b--2", "a" * 63])
def test_good_dns1123_labels(value):
    assert is_dns1123_label(value) == []


@pytest.mark.parametrize("value", ["", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-", "-1", "_",
                                   "a_", "_a", "a_b", "1_", "_1", "1_2", "a.", ".a", "a.b", "1.", ".1", "1.2", " ",
                                   "a ", " a", "a b", "1 ", " 1", "1 2", "a" * 64, "abc\n"])
def test_bad_dns1123_labels(value):
    assert is_dns1123_label(value) != []


def test_label_messages():
    assert is_dns1123_label("a.b") == ["must not contain dots"]
    assert is_dns1123_label("A") == [
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
        "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"]
    assert is_dns1123_subdomain("a" * 254)[0] == "must be no more than 253 characters"
    assert is_dns1123_subdomain("Web")[0].startswith("a lowercase RFC 1123 subdomain must consist of")
    assert is_dns1035_label("1abc")[0].startswith("a DNS-1035 label must consist of lower case alphanumeric")
    assert is_dns1035_label("my-svc") == []


@pytest.mark.parametrize("value", ["a.b.c", "a-b.c", "1.2.3", "a" * 253, "example.com", "0.1.2.domain"])
def test_good_subdomains(value):
    assert is_dns1123_subdomain(value) == []


def test_generate_name_prefixes_may_end_with_a_dash():
    assert name_is_dns_subdomain("web-", prefix=True) == []
    assert name_is_dns_subdomain("web-", prefix=False) != []
    assert name_is_path_segment("a/b") == ["may not contain '/'"]
    assert name_is_path_segment("..") == ["may not be '..'"]
    assert name_is_path_segment("..", prefix=True) == []
    assert is_valid_path_segment_name("system:controller:x") == []


def test_ports_and_keys():
    assert is_valid_port_num(0) == ["must be between 1 and 65535, inclusive"]
    assert is_valid_port_num(65535) == []
    assert is_valid_port_name("http") == []
    assert is_valid_port_name("http-metrics-1") == []
    assert is_valid_port_name("a" * 16) == ["must be no more than 15 characters"]
    assert is_valid_port_name("80") == ["must contain at least one letter (a-z)"]
    assert is_valid_port_name("a--b") == ["must not contain consecutive hyphens"]
    assert is_valid_port_name("-ab") == ["must not begin or end with a hyphen"]
    assert is_valid_port_name("HTTP") == ["must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                                          "must contain at least one letter (a-z)"]
    assert is_config_map_key("game.properties") == []
    assert is_config_map_key(".dotfile") == []
    assert is_config_map_key("..x") == ["must not start with '..'"]
    assert is_config_map_key("a/b")[0].startswith("a valid config key must consist of alphanumeric characters")
    assert is_env_var_name("MY_VAR") == [] and is_env_var_name("1-a.b") == []
    assert is_env_var_name("A=B") == ["a valid environment variable name must consist only of printable ASCII "
                                      "characters other than '='"]
    assert is_env_var_name("") == ["environment variable name must be non-empty"]
    assert is_valid_percent("25%") == [] and is_valid_percent("25") != []
