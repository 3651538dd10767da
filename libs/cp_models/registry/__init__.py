"""The model registry: trained artifacts stored in PostgreSQL, one table per owning layer.

Each layer service owns its model versions (database per service): the registry's table lives
in the layer's schema (``layer1_macro``, ...), with its own migration history
(``model_registry_version``) so the layer service's migrations stay independent.
"""

from cp_models.registry.store import ModelRegistry, ModelVersion, ensure_registry_schema
from cp_models.registry.watcher import ActiveModelWatcher

__all__ = ["ActiveModelWatcher", "ModelRegistry", "ModelVersion", "ensure_registry_schema"]
