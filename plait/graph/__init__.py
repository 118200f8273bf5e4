"""The symbolic graph: tensors, nodes, topology and shape inference."""

from plait.graph.node import Node as Node
from plait.graph.symbolic import SymbolicTensor as SymbolicTensor
from plait.graph.topology import Topology as Topology
from plait.graph.topology import build_topology as build_topology
