"""Simulated KubeEdge: the cloud task managers of both job dialects, NodeGroups, edge nodes
and their image stores."""
