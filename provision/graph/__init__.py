"""Graph: a generic DAG (``dag``), resource stages (``stages``), targeting and views.

``dag`` knows nothing about resources; ``stages`` maps a resolved spec onto it.
"""

from provision.graph.dag import DAG
from provision.graph.select import select, select_for_destroy
from provision.graph.stages import Stage, StageGraph, build_stages, resource_dependencies

__all__ = ["DAG", "Stage", "StageGraph", "build_stages", "resource_dependencies", "select",
           "select_for_destroy"]
