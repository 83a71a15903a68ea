using Microsoft.Extensions.Logging;

namespace TcpTalk.Hosting;

/// <summary>The log messages of TcpTalk.Hosting (category <c>TcpTalk.Hosting</c>), with stable event ids.</summary>
internal static partial class HostingLog
{
    [LoggerMessage(1, LogLevel.Information, "{Port} is not used: systemd passed {Count} listening socket(s) (socket activation)")]
    public static partial void PortNotUsed(ILogger logger, string port, int count);
}
