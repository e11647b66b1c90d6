#!/bin/sh
# Sharded vdcaudit scan on Azure Container Apps jobs. NOT RUN HERE (no Azure subscription was
# reachable where this was written): check names and the az CLI version (containerapp extension)
# before use.
#
# Container Apps gives the replicas of one execution no index (unlike a Kubernetes Indexed Job),
# so each shard is its own execution of one manual-trigger job, started with the shard's scope as
# an environment variable; executions run in parallel. `--parallelism` stays 1 per execution.
set -eu
RG=rg-vdcaudit
ENV=cae-vdcaudit                     # a Container Apps environment with an Azure Files storage "results"
IMAGE=registry.example.com/vdcaudit:0.1.0
IDENTITY=/subscriptions/.../resourceGroups/rg-vdcaudit/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-vdcaudit

az containerapp job create -g "$RG" -n vdcaudit-shard --environment "$ENV" --image "$IMAGE" \
  --trigger-type Manual --parallelism 1 --replica-completion-count 1 --replica-timeout 7200 \
  --mi-user-assigned "$IDENTITY" --env-vars AZURE_CLIENT_ID=<client id of id-vdcaudit> SCOPE=unset \
  --command /bin/sh --args -c 'vdcaudit scan --management-group "$SCOPE" --format json --quiet --out "/results/shards/$SCOPE"'
# (mount the "results" storage at /results: az containerapp job update --yaml with a volume of storageType AzureFile)

for scope in mg-landing-zone-a mg-landing-zone-b mg-landing-zone-c mg-platform; do
  az containerapp job start -g "$RG" -n vdcaudit-shard --env-vars SCOPE="$scope" \
    --image "$IMAGE" --container-name vdcaudit-shard
done
# wait until every execution succeeded:
#   az containerapp job execution list -g "$RG" -n vdcaudit-shard -o table

az containerapp job create -g "$RG" -n vdcaudit-merge --environment "$ENV" --image "$IMAGE" \
  --trigger-type Manual --parallelism 1 --replica-completion-count 1 \
  --command /bin/sh --args -c 'vdcaudit merge /results/shards/*/vdcaudit-findings.json --out /results/merged --format json,html,sarif,md --fail-on high'
az containerapp job start -g "$RG" -n vdcaudit-merge
