"""ocflib.cluster against the real crm_attribute, on a CIB file (no cluster needed)."""

from __future__ import annotations

import os

import pytest

from lab.cib import seed_cib
from ocflib import cluster
from ocflib.env import OcfEnv
from ocflib.run import ProcessRunner
from tests.conftest import feature_set, need


@pytest.fixture
def cib(tmp_path: object) -> str:
    need("cibadmin", "crm_attribute")
    return seed_cib(os.path.join(str(tmp_path), "cib.xml"), nodes=["node1"])


def test_promotion_score_set_get_delete(cib: str) -> None:
    environ = {
        "CIB_file": cib,
        "OCF_RESOURCE_INSTANCE": "p_drbd",
        "OCF_RESKEY_crm_feature_set": "3.16.2",
        "OCF_RESKEY_CRM_meta_on_node": "node1",
    }
    env = OcfEnv("monitor", environ)
    runner = ProcessRunner(environ=environ)
    node = cluster.local_node_name(env, runner)
    assert node == "node1"
    # crm_attribute --promotion acts on the local node; with a CIB file there is
    # none, so these calls name it through the node attribute helpers' -N form.
    cluster.set_node_attribute(runner, node, "master-p_drbd", "10")
    assert cluster.get_node_attribute(runner, node, "master-p_drbd") == "10"
    cluster.delete_node_attribute(runner, node, "master-p_drbd")
    assert cluster.get_node_attribute(runner, node, "master-p_drbd") is None
    cluster.delete_node_attribute(runner, node, "master-p_drbd")  # absent: still fine
    with open(cib) as f:
        assert "master-p_drbd" not in f.read()


def test_promotion_score_on_the_node_pacemaker_names(cib: str) -> None:
    need("pacemakerd")
    environ = {
        "CIB_file": cib,
        "OCF_RESOURCE_INSTANCE": "p_db",
        "OCF_RESKEY_crm_feature_set": feature_set(),
        "OCF_RESKEY_CRM_meta_on_node": "node1",
    }
    env = OcfEnv("monitor", environ)
    runner = ProcessRunner(environ=environ)
    cluster.set_promotion_score(env, runner, 10)
    assert cluster.get_promotion_score(env, runner) == 10
    assert cluster.get_node_attribute(runner, "node1", "master-p_db") == "10"
    cluster.delete_promotion_score(env, runner)
    assert cluster.get_promotion_score(env, runner) is None
    cluster.delete_promotion_score(env, runner)


def test_promotion_helpers_run_crm_attribute_promotion(cib: str) -> None:
    environ = {
        "CIB_file": cib,
        "OCF_RESOURCE_INSTANCE": "p_drbd",
        "OCF_RESKEY_crm_feature_set": "3.16.2",
    }
    env = OcfEnv("monitor", environ)
    runner = ProcessRunner(environ=environ)
    # Without a running cluster crm_attribute cannot resolve the local node: the
    # helper surfaces that as a failure with crm_attribute's own words.
    from ocflib.errors import CommandFailed

    with pytest.raises(CommandFailed) as info:
        cluster.set_promotion_score(env, runner, 10)
    assert info.value.reason.startswith("crm_attribute returned")
    assert cluster.get_promotion_score(env, runner) is None
