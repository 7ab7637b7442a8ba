"""The graph network: an ensemble of graph regressors (torch-geometric) with a readout head.

Each member is either a GINE network (Hu et al. 2020: GIN convolutions with bond features,
residual connections, sum and mean pooling; the default, fast on CPU) or PyG's
:class:`~torch_geometric.nn.models.AttentiveFP` (Xiong et al. 2020), over molgen's atom and bond
features, optionally joined by standardized RDKit descriptors before a two-layer head. Targets
are standardized with the training set's mean and standard deviation, which the module keeps as
buffers, so a checkpoint predicts in the target's own unit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn
from torch_geometric.nn import GINEConv, global_add_pool, global_mean_pool
from torch_geometric.nn.models import AttentiveFP

from molgen.predictors.gnn.featurize import ATOM_DIM, BOND_DIM, DESCRIPTORS, FEATURIZER_VERSION


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to rebuild a :class:`GraphEnsemble` (stored in each checkpoint).

    Attributes:
        tasks: output names, one column each (e.g. ``("log_solubility",)``).
        units: unit of each task, ``""`` if dimensionless.
        arch: ``gine`` or ``attentivefp``.
        hidden: width of the graph layers and the head.
        layers: message-passing layers.
        timesteps: AttentiveFP molecule-embedding (readout) steps (unused by GINE).
        dropout: dropout in the graph layers and the head during training.
        descriptors: whether RDKit descriptors join the graph readout.
        members: ensemble size; with more than one, the spread is an uncertainty.
        featurizer: the featurizer version the weights were trained with.
    """

    tasks: tuple[str, ...]
    units: tuple[str, ...] = ()
    arch: str = "gine"
    hidden: int = 128
    layers: int = 3
    timesteps: int = 2
    dropout: float = 0.1
    descriptors: bool = False
    members: int = 1
    featurizer: str = FEATURIZER_VERSION
    extra: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelSpec:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("tasks", "units"):
            known[key] = tuple(known.get(key, ()))
        return cls(**known)


# Edges per block in GINE's CPU inference path (4,096 x 128 float32 messages: 2 MiB).
_EDGE_BLOCK = 4096


class GINE(nn.Module):
    """GINE message passing with residual connections; readout: sum and mean pooling."""

    def __init__(self, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.atom = nn.Linear(ATOM_DIM, hidden)
        self.convs = nn.ModuleList(
            GINEConv(
                nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden)),
                edge_dim=BOND_DIM,
            )
            for _ in range(layers)
        )
        self.norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(layers))
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(2 * hidden, hidden)

    def forward(self, x, edge_index, edge_attr, batch) -> torch.Tensor:  # noqa: ANN001
        h = self.atom(x)
        if not self.training and not torch.is_grad_enabled() and h.device.type == "cpu":
            h = self._layers_cpu_inference(h, edge_index, edge_attr)
        else:
            for conv, norm in zip(self.convs, self.norms, strict=True):
                h = h + self.dropout(torch.relu(norm(conv(h, edge_index, edge_attr))))
        pooled = torch.cat([global_add_pool(h, batch), global_mean_pool(h, batch)], dim=1)
        return self.out(pooled)

    def _layers_cpu_inference(self, h, edge_index, edge_attr) -> torch.Tensor:  # noqa: ANN001
        """The message-passing layers without autograd or dropout, on CPU: the arithmetic of
        :class:`~torch_geometric.nn.GINEConv` in the same order (message ``relu(h[source] +
        lin(edge_attr))``, summed at the target in edge order, plus ``(1 + eps) h``, then the
        layer's MLP), but run over blocks of edges with in-place updates, so that the per-edge
        tensors stay in cache and none is the size of all edges. (With ``eps`` 0,
        as in every GINE here, ``(1 + eps) h`` is ``h`` exactly and is added as it is.)"""
        source, target = edge_index[0], edge_index[1]
        n_edges = source.numel()
        h = h.clone()  # updated in place below
        for conv, norm in zip(self.convs, self.norms, strict=True):
            summed = torch.zeros_like(h)
            for start in range(0, n_edges, _EDGE_BLOCK):
                stop = start + _EDGE_BLOCK
                message = conv.lin(edge_attr[start:stop])
                message.add_(h.index_select(0, source[start:stop])).relu_()
                summed.index_add_(0, target[start:stop], message)
            summed.add_(h if float(conv.eps) == 0.0 else (1 + conv.eps) * h)
            h.add_(norm(conv.nn(summed)).relu_())
        return h


class GraphRegressor(nn.Module):
    """One member: graph → ``(n_mols, n_tasks)`` standardized values."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        n_desc = len(DESCRIPTORS) if spec.descriptors else 0
        if spec.arch == "gine":
            self.gnn = GINE(spec.hidden, spec.layers, spec.dropout)
        elif spec.arch == "attentivefp":
            self.gnn = self._attentivefp(spec)
        else:
            raise ValueError(f"unknown architecture {spec.arch!r}: use 'gine' or 'attentivefp'")
        self.head = nn.Sequential(
            nn.ReLU(),
            nn.Dropout(spec.dropout),
            nn.Linear(spec.hidden + n_desc, spec.hidden),
            nn.ReLU(),
            nn.Linear(spec.hidden, len(spec.tasks)),
        )

    @staticmethod
    def _attentivefp(spec: ModelSpec) -> nn.Module:
        return AttentiveFP(
            in_channels=ATOM_DIM,
            hidden_channels=spec.hidden,
            out_channels=spec.hidden,
            edge_dim=BOND_DIM,
            num_layers=spec.layers,
            num_timesteps=spec.timesteps,
            dropout=spec.dropout,
        )

    def forward(self, batch, u: torch.Tensor | None) -> torch.Tensor:
        h = self.gnn(batch.x, batch.edge_index, batch.edge_attr, batch.batch)
        if u is not None:
            h = torch.cat([h, u], dim=1)
        return self.head(h)


class GraphEnsemble(nn.Module):
    """``members`` regressors sharing the target and descriptor scaling.

    Buffers: ``y_mean``/``y_std`` ``(n_tasks,)`` and ``u_mean``/``u_std`` ``(n_descriptors,)``.
    """

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec
        self.members = nn.ModuleList(GraphRegressor(spec) for _ in range(spec.members))
        n_desc = len(DESCRIPTORS) if spec.descriptors else 0
        self.register_buffer("y_mean", torch.zeros(len(spec.tasks)))
        self.register_buffer("y_std", torch.ones(len(spec.tasks)))
        self.register_buffer("u_mean", torch.zeros(n_desc))
        self.register_buffer("u_std", torch.ones(n_desc))

    def scaled_descriptors(self, batch) -> torch.Tensor | None:
        if not self.spec.descriptors:
            return None
        u = batch.u.to(self.u_mean.dtype)
        return torch.nan_to_num((u - self.u_mean) / self.u_std, 0.0, 0.0, 0.0).clamp(-10, 10)

    def forward(self, batch) -> torch.Tensor:
        """Predictions in the targets' units, ``(members, n_mols, n_tasks)``."""
        u = self.scaled_descriptors(batch)
        out = torch.stack([m(batch, u) for m in self.members])
        return out * self.y_std + self.y_mean
