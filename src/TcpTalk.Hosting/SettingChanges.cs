using System.Text.Json.Nodes;

namespace TcpTalk.Hosting;

/// <summary>
/// What differs between two <see cref="TalkServerSettings"/>, key by key (<c>Server:Greeting</c>, <c>Server:Deny</c>),
/// and which of those keys a running server can take: everything read per connection can; what the listeners were
/// bound with, the journal and the framing cannot (<see cref="NeedsRestart"/>). A key added to the settings later is
/// live unless it is listed here.
/// </summary>
internal static class SettingChanges
{
    private static readonly string[] RestartOnly =
    [
        "Server:Port", "Server:Listen", "Server:UnixSocketMode", "Server:Framing", "Server:ListenBacklog", "Server:Acknowledge",
        "Server:KeepAliveTime", "Server:KeepAliveInterval", "Server:KeepAliveCount", "Journal:", "Admin:",
    ];

    /// <summary>The keys whose values differ, in the order of <see cref="TalkSettingKeys.All"/>.</summary>
    public static IReadOnlyList<string> Between(TalkServerSettings before, TalkServerSettings after)
    {
        var old = Flatten(before.ToJson());
        var now = Flatten(after.ToJson());
        return [.. old.Keys.Union(now.Keys, StringComparer.Ordinal)
            .Where(key => old.GetValueOrDefault(key) != now.GetValueOrDefault(key))
            .OrderBy(key => Order(key))];
    }

    /// <summary>Whether a change of <paramref name="key"/> needs a restart: its value is fixed while the server runs.</summary>
    public static bool NeedsRestart(string key) =>
        RestartOnly.Any(k => k.EndsWith(':') ? key.StartsWith(k, StringComparison.Ordinal) : key == k);

    /// <summary>Whether a change of <paramref name="key"/> means reading the certificate files again.</summary>
    public static bool IsTls(string key) => key.StartsWith("Tls:", StringComparison.Ordinal);

    private static int Order(string key)
    {
        int index = TalkSettingKeys.All.ToList().IndexOf(key);
        return index < 0 ? int.MaxValue : index;
    }

    private static Dictionary<string, string> Flatten(JsonObject settings)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (section, node) in settings)
        {
            if (node is JsonObject keys)
            {
                foreach (var (key, value) in keys)
                {
                    values[$"{section}:{key}"] = value?.ToJsonString() ?? "null";
                }
            }
        }

        return values;
    }
}
