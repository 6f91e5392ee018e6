<#
.SYNOPSIS
Sends a heartbeat to Paddock every few seconds so that its watchdog knows the exhibit is alive.

.DESCRIPTION
GETs Url?status=Status every IntervalSeconds, like the earlier AutoIt heartbeat script. A failed
request is logged once per change (ok -> failing -> ok) and the loop goes on; when heartbeats
stop for the VM's watch.heartbeat_timeout_s, Paddock reverts the VM to its ready snapshot.
Windows PowerShell 5.1, no modules; needs PaddockGuest.ps1 in the same folder.

.PARAMETER Url
The heartbeat URL. Native: http://10.0.2.2:8000/api/v1/vms/NAME/heartbeat (QEMU user-mode
networking; on a libvirt network the network's gateway, e.g. 192.168.122.1). The earlier
controller's route, served by Paddock unchanged: http://HOST:PORT/api/v1/heartbeat.

.PARAMETER IntervalSeconds
Seconds between heartbeats (default 1; decimals allowed).

.PARAMETER Status
The status word sent as ?status= (default ok): letters, digits and . _ - only.

.PARAMETER TokenFile
A file whose first line is a bearer token, sent as "Authorization: Bearer". Needed only when
the guest calls from outside Paddock's watch.heartbeat_sources. Read again for every request.

.PARAMETER TimeoutSeconds
Request timeout (default 2).

.PARAMETER LogFile
Append log lines here instead of writing them to the console.

.PARAMETER Once
Send one heartbeat and exit: 0 when Paddock accepted it, 1 when not.

.EXAMPLE
powershell.exe -NoProfile -ExecutionPolicy Bypass -File heartbeat.ps1 -Url http://10.0.2.2:8000/api/v1/vms/exhibit/heartbeat

.NOTES
Install (as an administrator), running at the exhibit user's logon, for ever:
  $dir = 'C:\Program Files\Paddock'
  New-Item -ItemType Directory -Force $dir | Out-Null
  Copy-Item heartbeat.ps1, PaddockGuest.ps1 $dir
  $action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument ('-NoProfile -NonInteractive -WindowStyle Hidden -ExecutionPolicy Bypass -File "' + $dir + '\heartbeat.ps1" -Url http://10.0.2.2:8000/api/v1/vms/exhibit/heartbeat -LogFile C:\ProgramData\Paddock\heartbeat.log')
  $settings = New-ScheduledTaskSettingsSet -ExecutionTimeLimit ([TimeSpan]::Zero) -RestartCount 999 -RestartInterval (New-TimeSpan -Minutes 1) -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries
  Register-ScheduledTask -TaskName 'Paddock heartbeat' -Action $action -Trigger (New-ScheduledTaskTrigger -AtLogOn) -Settings $settings
ExecutionTimeLimit zero matters: the default (72 hours) would stop the heartbeat and get the VM
reverted three days later. Create C:\ProgramData\Paddock first when using -LogFile.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][ValidatePattern('^https?://\S+$')][string]$Url,
    [ValidateRange(0.1, 86400)][double]$IntervalSeconds = 1,
    [ValidatePattern('^[A-Za-z0-9._-]{1,64}$')][string]$Status = 'ok',
    [string]$TokenFile,
    [ValidateRange(1, 300)][int]$TimeoutSeconds = 2,
    [string]$LogFile,
    [switch]$Once
)
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'PaddockGuest.ps1')

if ($Url.Contains('#')) { throw "the heartbeat URL must not have a fragment (#): $Url" }
if ($Url.Contains('?')) { $requestUrl = $Url + '&status=' + $Status } else { $requestUrl = $Url + '?status=' + $Status }
# A token that cannot be read is a configuration error: say so at once.
if ($TokenFile) { $null = Read-PaddockToken $TokenFile }

function Send-Heartbeat {
    $token = Read-PaddockToken $TokenFile
    $null = Invoke-PaddockRequest -Method GET -Url $requestUrl -Token $token -TimeoutSeconds $TimeoutSeconds
}

if ($Once) {
    try {
        Send-Heartbeat
        exit 0
    } catch {
        Write-PaddockLog "heartbeat to $Url failed: $(Get-PaddockErrorText $_)" $LogFile
        exit 1
    }
}

Write-PaddockLog "GET $requestUrl every $IntervalSeconds s" $LogFile
$state = ''
while ($true) {
    try {
        Send-Heartbeat
        if ($state -eq 'failing') {
            Write-PaddockLog 'heartbeats accepted again' $LogFile
        } elseif ($state -ne 'ok') {
            Write-PaddockLog 'heartbeats accepted' $LogFile
        }
        $state = 'ok'
    } catch {
        if ($state -ne 'failing') {
            Write-PaddockLog "heartbeat failing: $(Get-PaddockErrorText $_) (retrying every $IntervalSeconds s)" $LogFile
        }
        $state = 'failing'
    }
    Start-Sleep -Milliseconds ([int]($IntervalSeconds * 1000))
}
