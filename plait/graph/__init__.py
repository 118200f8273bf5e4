"""The symbolic graph: tensors, nodes, topology, shape inference and the executor."""

from plait.graph.node import Node as Node
from plait.graph.symbolic import SymbolicTensor as SymbolicTensor
from plait.graph.topology import Topology as Topology
from plait.graph.topology import build_topology as build_topology
