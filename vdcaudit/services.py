"""Which Azure service a resource type belongs to: the key `vdcaudit rules list` groups by and the
key `cmk_required` / `hsm_required` in vdcaudit.yaml are set per.

A type maps to the longest matching prefix in SERVICES (so SQL managed instances are their own
service, apart from SQL servers); a type no prefix names falls back to its namespace without
"Microsoft." in lower case (Microsoft.Foo/bars -> "foo"). A rule may name its service explicitly.
"""

from __future__ import annotations

# type prefix (lower-case) -> (service key, display name)
SERVICES: dict[str, tuple[str, str]] = {
    "microsoft.storage": ("storage", "Storage accounts"),
    "microsoft.keyvault/vaults": ("key-vault", "Key Vault"),
    "microsoft.keyvault/managedhsms": ("managed-hsm", "Key Vault Managed HSM"),
    "microsoft.sql/servers": ("sql", "Azure SQL Database"),
    "microsoft.sql/managedinstances": ("sql-managed-instance", "Azure SQL Managed Instance"),
    "microsoft.compute": ("compute", "Compute (VMs, disks, images)"),
    "microsoft.network": ("network", "Networking"),
    "microsoft.web": ("app-service", "App Service"),
    "microsoft.servicebus": ("service-bus", "Service Bus"),
    "microsoft.cache": ("redis", "Azure Cache for Redis"),
    "microsoft.operationalinsights": ("log-analytics", "Log Analytics"),
    "microsoft.sdn": ("sdn", "Windows Server SDN (on-premises)"),
    "microsoft.documentdb": ("cosmos-db", "Azure Cosmos DB"),
    "microsoft.dbforpostgresql": ("postgresql", "Azure Database for PostgreSQL"),
    "microsoft.dbformysql": ("mysql", "Azure Database for MySQL"),
    "microsoft.eventhub": ("event-hubs", "Event Hubs"),
    "microsoft.containerregistry": ("container-registry", "Container Registry"),
    "microsoft.recoveryservices": ("recovery-services", "Recovery Services vaults"),
    "microsoft.dataprotection": ("backup-vault", "Backup vaults"),
    "microsoft.kusto": ("data-explorer", "Azure Data Explorer"),
    "microsoft.synapse": ("synapse", "Synapse Analytics"),
    "microsoft.databricks": ("databricks", "Azure Databricks"),
    "microsoft.datafactory": ("data-factory", "Data Factory"),
    "microsoft.cognitiveservices": ("ai-services", "Azure AI services (Cognitive Services)"),
    "microsoft.machinelearningservices": ("machine-learning", "Azure Machine Learning"),
    "microsoft.appconfiguration": ("app-configuration", "App Configuration"),
    "microsoft.automation": ("automation", "Automation"),
    "microsoft.batch": ("batch", "Batch"),
    "microsoft.containerservice": ("aks", "Azure Kubernetes Service"),
    # customer-managed keys of the remaining data services
    "microsoft.healthcareapis/services": ("api-for-fhir", "Azure API for FHIR"),
    "microsoft.healthcareapis/workspaces": ("health-data-services", "Azure Health Data Services (FHIR, DICOM)"),
    "microsoft.loadtestservice": ("load-testing", "Azure Load Testing"),
    "microsoft.containerinstance": ("container-instances", "Container Instances"),
    "microsoft.elasticsan": ("elastic-san", "Elastic SAN"),
    "microsoft.fluidrelay": ("fluid-relay", "Fluid Relay"),
    "microsoft.healthbot": ("health-bot", "Azure Health Bot"),
    "microsoft.deviceupdate": ("device-update", "Device Update for IoT Hub"),
    "microsoft.search": ("ai-search", "Azure AI Search"),
    "microsoft.storagecache": ("hpc-cache", "Azure HPC Cache"),
    "microsoft.streamanalytics": ("stream-analytics", "Stream Analytics"),
    "microsoft.hdinsight": ("hdinsight", "Azure HDInsight"),
    "microsoft.servicefabric": ("service-fabric", "Service Fabric"),
    "microsoft.aad": ("entra-domain-services", "Microsoft Entra Domain Services"),
    "microsoft.botservice": ("bot-service", "Azure AI Bot Service"),
    "microsoft.insights": ("monitor", "Azure Monitor (alerts, activity log)"),
}


def _match(resource_type: str) -> tuple[str, str] | None:
    lowered = resource_type.lower()
    best = max((prefix for prefix in SERVICES if lowered == prefix or lowered.startswith(prefix + "/")),
               key=len, default=None)
    return SERVICES[best] if best else None


def service_of(resource_type: str) -> str:
    """The service key of a resource type (e.g. "cosmos-db")."""
    found = _match(resource_type)
    if found:
        return found[0]
    return resource_type.split("/", 1)[0].lower().removeprefix("microsoft.")


def display_name(service: str) -> str:
    return next((name for key, name in SERVICES.values() if key == service), service)


def known_services() -> list[str]:
    return sorted({key for key, _ in SERVICES.values()})
