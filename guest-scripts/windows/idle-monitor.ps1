<#
.SYNOPSIS
Tells Paddock when nobody has touched the exhibit for a while, so that it resets the VM.

.DESCRIPTION
Reads the time since the last keyboard or mouse input of this session (GetLastInputInfo, through
Add-Type P/Invoke) every CheckSeconds. When it reaches IdleSeconds it calls Paddock once for that
idle period; the next call comes only after someone used the exhibit and left it idle again.
  -Mode reset (default): POST {"idle_duration": <seconds idle>} to Url; Paddock reverts the VM
   to its ready snapshot and starts it again.
     native: http://10.0.2.2:8000/api/v1/vms/NAME/idle-reset
     earlier controller's route: http://HOST:PORT/api/v1/idle/reset
  -Mode restart: GET Url, as the earlier idle monitor did with http://HOST:PORT/api/v1/vm/restart
   (Paddock answers it for the configured exhibit VM).
Must run in the exhibit user's interactive session (GetLastInputInfo sees only its own session):
a Task Scheduler task at that user's logon, not a service. Windows PowerShell 5.1, no modules;
needs PaddockGuest.ps1 in the same folder.

.PARAMETER Url
The idle-reset URL (Mode reset) or the restart URL (Mode restart).

.PARAMETER Mode
reset (POST JSON idle_duration) or restart (GET).

.PARAMETER IdleSeconds
Seconds without input that make the exhibit idle (default 300).

.PARAMETER CheckSeconds
How often to look (default 5).

.PARAMETER TokenFile
A file whose first line is a bearer token, sent as "Authorization: Bearer"; only needed outside
Paddock's watch.heartbeat_sources.

.PARAMETER TimeoutSeconds
Request timeout (default 10).

.PARAMETER LogFile
Append log lines here instead of writing them to the console.

.EXAMPLE
powershell.exe -NoProfile -ExecutionPolicy Bypass -File idle-monitor.ps1 -Url http://10.0.2.2:8000/api/v1/vms/exhibit/idle-reset -IdleSeconds 600

.NOTES
Install as for heartbeat.ps1 (see its help), at the exhibit user's logon:
  $action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument '-NoProfile -NonInteractive -WindowStyle Hidden -ExecutionPolicy Bypass -File "C:\Program Files\Paddock\idle-monitor.ps1" -Url http://10.0.2.2:8000/api/v1/vms/exhibit/idle-reset -IdleSeconds 600'
  $settings = New-ScheduledTaskSettingsSet -ExecutionTimeLimit ([TimeSpan]::Zero) -RestartCount 999 -RestartInterval (New-TimeSpan -Minutes 1)
  Register-ScheduledTask -TaskName 'Paddock idle monitor' -Action $action -Trigger (New-ScheduledTaskTrigger -AtLogOn) -Settings $settings
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][ValidatePattern('^https?://\S+$')][string]$Url,
    [ValidateSet('reset', 'restart')][string]$Mode = 'reset',
    [ValidateRange(1, 604800)][int]$IdleSeconds = 300,
    [ValidateRange(1, 3600)][int]$CheckSeconds = 5,
    [string]$TokenFile,
    [ValidateRange(1, 300)][int]$TimeoutSeconds = 10,
    [string]$LogFile
)
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'PaddockGuest.ps1')

if (-not ('PaddockIdle' -as [type])) {
    Add-Type -TypeDefinition @'
using System;
using System.ComponentModel;
using System.Runtime.InteropServices;

public static class PaddockIdle {
    [StructLayout(LayoutKind.Sequential)]
    private struct LASTINPUTINFO {
        public uint cbSize;
        public uint dwTime;
    }

    [DllImport("user32.dll", SetLastError = true)]
    private static extern bool GetLastInputInfo(ref LASTINPUTINFO info);

    // Seconds since the last input of this session. Both tick counts wrap after 49.7 days;
    // the unsigned difference of their low 32 bits stays right across the wrap.
    public static double Seconds() {
        LASTINPUTINFO info = new LASTINPUTINFO();
        info.cbSize = (uint)Marshal.SizeOf(typeof(LASTINPUTINFO));
        if (!GetLastInputInfo(ref info)) throw new Win32Exception(Marshal.GetLastWin32Error());
        uint now = unchecked((uint)Environment.TickCount);
        return unchecked(now - info.dwTime) / 1000.0;
    }
}
'@
}

if ($TokenFile) { $null = Read-PaddockToken $TokenFile }
Write-PaddockLog "idle monitor: $Mode via $Url after $IdleSeconds s without input" $LogFile

$fired = $false     # called Paddock for the current idle period
$lastError = ''     # logged once until something changes
while ($true) {
    try {
        $idle = [PaddockIdle]::Seconds()
        if ($idle -lt $IdleSeconds) {
            if ($fired) { Write-PaddockLog 'input again: idle monitoring re-armed' $LogFile }
            $fired = $false
        } elseif (-not $fired) {
            $seconds = [int][Math]::Floor($idle)
            $token = Read-PaddockToken $TokenFile
            if ($Mode -eq 'reset') {
                $body = @{ idle_duration = $seconds } | ConvertTo-Json -Compress
                $null = Invoke-PaddockRequest -Method POST -Url $Url -JsonBody $body -Token $token -TimeoutSeconds $TimeoutSeconds
            } else {
                $null = Invoke-PaddockRequest -Method GET -Url $Url -Token $token -TimeoutSeconds $TimeoutSeconds
            }
            Write-PaddockLog "idle for $seconds s: $Mode requested" $LogFile
            $fired = $true
        }
        $lastError = ''
    } catch {
        # Not marked as fired: the next check tries again.
        $text = "idle $Mode failed: $(Get-PaddockErrorText $_) (retrying every $CheckSeconds s)"
        if ($text -ne $lastError) { Write-PaddockLog $text $LogFile }
        $lastError = $text
    }
    Start-Sleep -Seconds $CheckSeconds
}
