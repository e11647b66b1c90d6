"""What the Key Vault data-plane reader (keyvault_data.py), the emulator and the certificate checks
share, without importing the Key Vault SDK (the checks run in every scan, most of them offline)."""

from __future__ import annotations

VAULT_TYPE = "Microsoft.KeyVault/vaults"
# A certificate read through the data plane: a child of its vault, id {vault id}/certificates/{name}
CERTIFICATE_TYPE = "Microsoft.KeyVault/vaults/certificates"


def unread_detail(vault_id: str) -> str:
    """The coverage record's detail for a vault whose certificates could not be read (the checks
    find the record by it, also in a snapshot)."""
    return f"for {vault_id}"
