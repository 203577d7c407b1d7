"""The areas of Harvester, Longhorn and network-controller behaviour the twin reproduces.

Each area brings a `register(chain)` for its webhooks (admission/<area>.py) and controller
classes (controllers/<area>.py). Mutating webhooks run in registration order.
"""
from __future__ import annotations

from .admission import backup as backup_admission
from .admission import capi as capi_admission
from .admission import image as image_admission
from .admission import keypair as keypair_admission
from .admission import longhorn as longhorn_admission
from .admission import network as network_admission
from .admission import node as node_admission
from .admission import rbac as rbac_admission
from .admission import settings as settings_admission
from .admission import storageclass as storageclass_admission
from .admission import upgrade as upgrade_admission
from .admission import vm as vm_admission
from .controllers import backup as backup_controllers
from .controllers import caphv as caphv_controllers
from .controllers import capi as capi_controllers
from .controllers import core as core_controllers
from .controllers import image as image_controllers
from .controllers import keypair as keypair_controllers
from .controllers import kubevirt as kubevirt_controllers
from .controllers import longhorn as longhorn_controllers
from .controllers import migration as migration_controllers
from .controllers import network as network_controllers
from .controllers import node as node_controllers
from .controllers import pod_resources as pod_resources_controllers
from .controllers import rufio as rufio_controllers
from .controllers import settings as settings_controllers
from .controllers import talos as talos_controllers
from .controllers import upgrade as upgrade_controllers

ADMISSION = [network_admission.register, image_admission.register, settings_admission.register,
             longhorn_admission.register, keypair_admission.register, rbac_admission.register,
             storageclass_admission.register]
CONTROLLERS = [*kubevirt_controllers.CONTROLLERS, *network_controllers.CONTROLLERS, *image_controllers.CONTROLLERS, *settings_controllers.CONTROLLERS,
               *longhorn_controllers.CONTROLLERS, *keypair_controllers.CONTROLLERS, *core_controllers.CONTROLLERS]

# Cluster API core, CAPHV and the Talos providers (the management cluster's side)
ADMISSION += [capi_admission.register]
CONTROLLERS += [*capi_controllers.CONTROLLERS, *caphv_controllers.CONTROLLERS, *talos_controllers.CONTROLLERS]

# Upgrades: Version and Upgrade webhooks, the upgrade controller
ADMISSION += [upgrade_admission.register]
CONTROLLERS += [*upgrade_controllers.CONTROLLERS]

# VM backups, snapshots and restores: their webhooks and controllers
ADMISSION += [backup_admission.register]
CONTROLLERS += [*backup_controllers.CONTROLLERS]

# Node maintenance mode: the node webhook, the node-drain and maintain controllers, live migration
ADMISSION += [node_admission.register]
CONTROLLERS += [*node_controllers.CONTROLLERS]

# VirtualMachines: Harvester's VM mutator and validator, KubeVirt's VM validator
ADMISSION += [vm_admission.register]
CONTROLLERS += [*migration_controllers.CONTROLLERS]  # migrations asked for with a VirtualMachineInstanceMigration

# The nodes' pod-requests/pod-limits annotations (Harvester's copy of Rancher's pod-resources controller)
CONTROLLERS += [*pod_resources_controllers.CONTROLLERS]

# Tinkerbell's Rufio (bmc.tinkerbell.org Machine/Job/Task) on the simulated AMT: runs only when those
# CRDs are loaded (--crds tests/twin/crds/rufio, or the upstream folder)
CONTROLLERS += [*rufio_controllers.CONTROLLERS]
