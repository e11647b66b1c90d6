<#
.SYNOPSIS
    Lists a Hyper-V host's certificates (LocalMachine\My and LocalMachine\Root) for vdcaudit.

.DESCRIPTION
    Read-only: enumerates the two certificate stores and prints one JSON document with, per
    certificate, Thumbprint, Subject, Issuer, NotBefore, NotAfter (UTC, ISO 8601), HasPrivateKey,
    EnhancedKeyUsageList, DnsNameList and RawData (the DER certificate in base64: public data only,
    never the private key). vdcaudit parses RawData for key size and signature hash.
    Works in Windows PowerShell 5.1 and PowerShell 7.

.PARAMETER OutFile
    Where to write the JSON (UTF-8). Default: <computer FQDN>.json in the current folder, the name
    vdcaudit expects under hosts/ when it equals one of the server's management addresses.

.EXAMPLE
    .\Get-VdcHostCertificates.ps1
    Invoke-Command -ComputerName hv01.contoso.local -FilePath .\Get-VdcHostCertificates.ps1 -ArgumentList '-' |
        Out-File -Encoding utf8 .\snapshot\hosts\hv01.contoso.local.json
#>
[CmdletBinding()]
param(
    # '-' prints the document instead of writing a file (for Invoke-Command)
    [string]$OutFile
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

function ConvertTo-VdcCertificate {
    param([System.Security.Cryptography.X509Certificates.X509Certificate2]$Certificate)
    [ordered]@{
        Thumbprint            = $Certificate.Thumbprint
        Subject               = $Certificate.Subject
        Issuer                = $Certificate.Issuer
        NotBefore             = $Certificate.NotBefore.ToUniversalTime().ToString('o')
        NotAfter              = $Certificate.NotAfter.ToUniversalTime().ToString('o')
        HasPrivateKey         = $Certificate.HasPrivateKey
        EnhancedKeyUsageList  = @($Certificate.EnhancedKeyUsageList | ForEach-Object {
                                    [ordered]@{ FriendlyName = $_.FriendlyName; ObjectId = $_.ObjectId } })
        DnsNameList           = @($Certificate.DnsNameList | ForEach-Object { [string]$_.Unicode })
        RawData               = [Convert]::ToBase64String($Certificate.RawData)
    }
}

$stores = [ordered]@{}
foreach ($store in 'My', 'Root') {
    $stores[$store] = @(Get-ChildItem -Path "Cert:\LocalMachine\$store" |
        Where-Object { $_ -is [System.Security.Cryptography.X509Certificates.X509Certificate2] } |
        ForEach-Object { ConvertTo-VdcCertificate -Certificate $_ })
}

$fqdn = [System.Net.Dns]::GetHostEntry([string]$env:COMPUTERNAME).HostName
$document = [ordered]@{
    vdcauditHostInventory = 1
    computerName          = $fqdn
    collected             = (Get-Date).ToUniversalTime().ToString('o')
    stores                = $stores
}
# Depth 5: ConvertTo-Json's default (2) would flatten the EKU objects into text.
$json = $document | ConvertTo-Json -Depth 5

if ($OutFile -eq '-') {
    $json
} else {
    if (-not $OutFile) { $OutFile = Join-Path (Get-Location) "$fqdn.json" }
    # UTF-8 without BOM in both PowerShell editions
    [System.IO.File]::WriteAllText($OutFile, $json, (New-Object System.Text.UTF8Encoding($false)))
    Write-Host "wrote $OutFile"
}
