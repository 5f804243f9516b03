"""The lab: a real Pacemaker cluster on one machine (lab.cluster)."""
