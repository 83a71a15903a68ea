using System.Net;

namespace TcpTalk.Hosting;

/// <summary>
/// The <c>Admin</c> section: the operator's HTTP endpoint (<c>GET /metrics</c>, <c>/healthz</c>, <c>/readyz</c>; see
/// TcpTalk.Admin). Off unless <see cref="Listen"/> is set.
/// </summary>
public sealed class AdminSettings
{
    private readonly SettingValues _values = new("Admin");
    private IPEndPoint? _endpoint;

    /// <summary>
    /// Serve the admin endpoint on <c>ADDR:PORT</c> (<c>127.0.0.1:9464</c>, the port Prometheus exporters customarily
    /// use; port 0 picks a free one). Default empty: no admin endpoint. It has no authentication: bind it to loopback
    /// or a management network.
    /// </summary>
    public string Listen
    {
        get => _endpoint is null ? "" : SettingText.FormatEndpoint(_endpoint);
        set
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                _endpoint = null;
                return;
            }

            _values.Parse<IPEndPoint>(value, SettingText.TryParseEndpoint, endpoint => _endpoint = endpoint);
        }
    }

    /// <summary>The parsed <see cref="Listen"/>, or null when the endpoint is off.</summary>
    internal IPEndPoint? GetEndpoint() => _endpoint;

    /// <summary>The values that could not be parsed, and how each text was given.</summary>
    internal SettingValues GetValues() => _values;
}
