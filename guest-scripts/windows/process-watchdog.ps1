<#
.SYNOPSIS
Asks Paddock to revert the VM when the artwork's process is gone.

.DESCRIPTION
Checks every CheckSeconds that a process named ProcessName runs. When it has been missing for
MissingChecks checks in a row it calls Paddock:
  -Mode request (default): POST {"reason": Reason, "severity": Severity} to Url (with
   "delay_s": DelaySeconds when given). Paddock answers at once and reverts the VM to its ready
   snapshot after its delay.
     native: http://10.0.2.2:8000/api/v1/vms/NAME/revert-request
     earlier controller's route: http://HOST:PORT/api/v1/revert/request
  -Mode restart: GET Url, e.g. the earlier controller's http://HOST:PORT/api/v1/vm/restart.
After a call it waits for the process to come back; if it is still missing RepeatSeconds later
(a revert that did not happen or did not help) it calls again. Windows PowerShell 5.1, no
modules; needs PaddockGuest.ps1 in the same folder.

.PARAMETER ProcessName
The artwork's process name as Get-Process shows it, without ".exe" (e.g. "artwork").

.PARAMETER Url
The revert-request URL (Mode request) or the restart URL (Mode restart).

.PARAMETER Mode
request (POST JSON) or restart (GET).

.PARAMETER MissingChecks
Checks in a row without the process before calling Paddock (default 3).

.PARAMETER CheckSeconds
Seconds between checks (default 5).

.PARAMETER RepeatSeconds
While the process stays missing, call again after this long (default 300).

.PARAMETER Reason
The reason sent (default: "process <ProcessName> is not running").

.PARAMETER Severity
The severity sent (default critical).

.PARAMETER DelaySeconds
Native route only: delay_s, seconds Paddock waits before reverting. Not sent when not given.

.PARAMETER TokenFile
A file whose first line is a bearer token, sent as "Authorization: Bearer"; only needed outside
Paddock's watch.heartbeat_sources.

.PARAMETER TimeoutSeconds
Request timeout (default 10).

.PARAMETER LogFile
Append log lines here instead of writing them to the console.

.EXAMPLE
powershell.exe -NoProfile -ExecutionPolicy Bypass -File process-watchdog.ps1 -ProcessName artwork -Url http://10.0.2.2:8000/api/v1/vms/exhibit/revert-request

.NOTES
Install as for heartbeat.ps1 (see its help), at the exhibit user's logon, after the artwork:
  $action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument '-NoProfile -NonInteractive -WindowStyle Hidden -ExecutionPolicy Bypass -File "C:\Program Files\Paddock\process-watchdog.ps1" -ProcessName artwork -Url http://10.0.2.2:8000/api/v1/vms/exhibit/revert-request'
  $trigger = New-ScheduledTaskTrigger -AtLogOn
  $trigger.Delay = 'PT1M'   # give the artwork a minute to start
  $settings = New-ScheduledTaskSettingsSet -ExecutionTimeLimit ([TimeSpan]::Zero) -RestartCount 999 -RestartInterval (New-TimeSpan -Minutes 1)
  Register-ScheduledTask -TaskName 'Paddock process watchdog' -Action $action -Trigger $trigger -Settings $settings
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][ValidateNotNullOrEmpty()][string]$ProcessName,
    [Parameter(Mandatory = $true)][ValidatePattern('^https?://\S+$')][string]$Url,
    [ValidateSet('request', 'restart')][string]$Mode = 'request',
    [ValidateRange(1, 1000)][int]$MissingChecks = 3,
    [ValidateRange(1, 3600)][int]$CheckSeconds = 5,
    [ValidateRange(10, 86400)][int]$RepeatSeconds = 300,
    [string]$Reason,
    [ValidateNotNullOrEmpty()][string]$Severity = 'critical',
    [ValidateRange(0, 86400)][int]$DelaySeconds,
    [string]$TokenFile,
    [ValidateRange(1, 300)][int]$TimeoutSeconds = 10,
    [string]$LogFile
)
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'PaddockGuest.ps1')

if ($ProcessName.EndsWith('.exe', [StringComparison]::OrdinalIgnoreCase)) {
    $ProcessName = $ProcessName.Substring(0, $ProcessName.Length - 4)
}
if (-not $Reason) { $Reason = "process $ProcessName is not running" }
$sendDelay = $PSBoundParameters.ContainsKey('DelaySeconds')
if ($TokenFile) { $null = Read-PaddockToken $TokenFile }
Write-PaddockLog "process watchdog: $ProcessName; $Mode via $Url after $MissingChecks missed checks every $CheckSeconds s" $LogFile

$missing = 0
$lastCall = $null   # when Paddock was last called for the current absence
$lastError = ''
while ($true) {
    $running = @(Get-Process -Name $ProcessName -ErrorAction SilentlyContinue).Count -gt 0
    if ($running) {
        if ($missing -ge $MissingChecks) { Write-PaddockLog "$ProcessName runs again" $LogFile }
        $missing = 0
        $lastCall = $null
        $lastError = ''
    } else {
        $missing++
        if ($missing -eq $MissingChecks) { Write-PaddockLog "$ProcessName missing for $missing checks" $LogFile }
        $due = $missing -ge $MissingChecks -and
            ($null -eq $lastCall -or ((Get-Date) - $lastCall).TotalSeconds -ge $RepeatSeconds)
        if ($due) {
            try {
                $token = Read-PaddockToken $TokenFile
                if ($Mode -eq 'request') {
                    $fields = @{ reason = $Reason; severity = $Severity }
                    if ($sendDelay) { $fields['delay_s'] = $DelaySeconds }
                    $body = $fields | ConvertTo-Json -Compress
                    $null = Invoke-PaddockRequest -Method POST -Url $Url -JsonBody $body -Token $token -TimeoutSeconds $TimeoutSeconds
                } else {
                    $null = Invoke-PaddockRequest -Method GET -Url $Url -Token $token -TimeoutSeconds $TimeoutSeconds
                }
                Write-PaddockLog "$Mode sent: $Reason" $LogFile
                $lastCall = Get-Date
                $lastError = ''
            } catch {
                # Not recorded as called: the next check tries again.
                $text = "$Mode failed: $(Get-PaddockErrorText $_) (retrying every $CheckSeconds s)"
                if ($text -ne $lastError) { Write-PaddockLog $text $LogFile }
                $lastError = $text
            }
        }
    }
    Start-Sleep -Seconds $CheckSeconds
}
