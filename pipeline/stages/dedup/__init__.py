"""The `dedup` stage, one module per step, in the order a document meets them:

- settings: what counts as a duplicate, the scope, the join strategy (DedupSettings)
- templates: frequent boilerplate lines removed per source (RemoveTemplateLines)
- signatures: each document as a node (exact key, URL key, MinHash signature), the
  signatures a release keeps of them, those of earlier releases (`against:`)
- edges: pairs of duplicates, by one packed shuffle (PackedEdges) or per key (PerKeyEdges)
- components: clusters as connected components (ConnectedComponents, Membership)
- survivors: one survivor per cluster, decisions joined to documents (SideInputJoin, ShuffleJoin)
- stage: the Stage that wires them (Deduplicate)

The pure text and graph logic (keys, star steps, union-find, survivor order) lives in
filters.dedup and filters.minhash, without Beam.
"""

from rootstock.pipeline.stages.dedup.components import ConnectedComponents
from rootstock.pipeline.stages.dedup.settings import DedupSettings, NearDuplicates, TemplateLines
from rootstock.pipeline.stages.dedup.stage import Deduplicate

__all__ = ["ConnectedComponents", "DedupSettings", "Deduplicate", "NearDuplicates", "TemplateLines"]
