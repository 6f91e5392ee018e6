# Shared by heartbeat.ps1, idle-monitor.ps1 and process-watchdog.ps1 (dot-sourced from the same
# folder). Windows PowerShell 5.1, no modules: System.Net.HttpWebRequest does the HTTP.

Set-StrictMode -Version 2.0

# https: allow TLS 1.2 (.NET 4.x on older Windows offers only SSL 3 / TLS 1.0 by default).
try {
    [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
} catch {
    # .NET without TLS 1.2: plain http still works.
}

function Write-PaddockLog {
    param([string]$Message, [string]$LogFile)
    $line = '{0} {1}' -f (Get-Date).ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"), $Message
    if ($LogFile) {
        # A log that cannot be written must not stop the script: fall back to the console.
        try { Add-Content -LiteralPath $LogFile -Value $line -Encoding UTF8 -ErrorAction Stop; return } catch { }
    }
    Write-Host $line
}

# The first line of a token file: an RFC 6750 bearer token, or an error.
function Read-PaddockToken {
    param([string]$Path)
    if (-not $Path) { return $null }
    $token = [string](Get-Content -LiteralPath $Path -TotalCount 1 -ErrorAction Stop)
    $token = $token.Trim()
    if ($token -notmatch '^[A-Za-z0-9._~+/-]+=*$') {
        throw "no bearer token (letters, digits, -._~+/ then =) on the first line of $Path"
    }
    return $token
}

# One request. GET without a body, or POST with a JSON body; no proxy (Paddock is the guest's
# gateway or on its network). Returns the HTTP status; throws on a network error or a status
# that is not 2xx (System.Net.WebException, whose message says which).
function Invoke-PaddockRequest {
    param(
        [ValidateSet('GET', 'POST')][string]$Method,
        [string]$Url,
        [string]$JsonBody,
        [string]$Token,
        [int]$TimeoutSeconds
    )
    $request = [System.Net.HttpWebRequest][System.Net.WebRequest]::Create($Url)
    $request.Method = $Method
    $request.Timeout = $TimeoutSeconds * 1000
    $request.ReadWriteTimeout = $TimeoutSeconds * 1000
    $request.Proxy = $null
    $request.KeepAlive = $false
    $request.UserAgent = 'paddock-guest-scripts'
    $request.Accept = 'application/json'
    if ($Token) { $request.Headers['Authorization'] = 'Bearer ' + $Token }
    if ($Method -eq 'POST') {
        $bytes = [System.Text.Encoding]::UTF8.GetBytes([string]$JsonBody)
        $request.ContentType = 'application/json'
        $request.ContentLength = $bytes.Length
        $stream = $request.GetRequestStream()
        try { $stream.Write($bytes, 0, $bytes.Length) } finally { $stream.Dispose() }
    }
    $response = $request.GetResponse()
    try { return [int]$response.StatusCode } finally { $response.Close() }
}

# The message of an error record, for one log line.
function Get-PaddockErrorText {
    param($ErrorRecord)
    $e = $ErrorRecord.Exception
    while ($e.InnerException -and $e -is [System.Management.Automation.MethodInvocationException]) { $e = $e.InnerException }
    return $e.Message
}
