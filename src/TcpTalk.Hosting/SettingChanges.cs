using System.Text.Json.Nodes;
using TcpTalk.Server;

namespace TcpTalk.Hosting;

/// <summary>
/// What differs between two <see cref="TalkServerSettings"/>, key by key (<c>Server:Greeting</c>, <c>Server:Deny</c>),
/// and which of those keys a running server can take: everything read per connection can; what the listeners were
/// bound with, the journal and the framing cannot (<see cref="NeedsRestart"/>). A key added to the settings later is
/// live unless the server lists its option as restart-only (<see cref="TalkServerOptions.RestartOnlyProperties"/>).
/// </summary>
internal static class SettingChanges
{
    private const string ServerSection = "Server:";

    // Whole sections the service opens once at start: the journal it wraps, the admin endpoint it binds.
    private static readonly string[] RestartOnlySections = ["Journal:", "Admin:"];

    /// <summary>The keys whose values differ, in the order of <see cref="TalkSettingKeys.All"/>.</summary>
    public static IReadOnlyList<string> Between(TalkServerSettings before, TalkServerSettings after)
    {
        var old = Flatten(before.ToJson());
        var now = Flatten(after.ToJson());
        return [.. old.Keys.Union(now.Keys, StringComparer.Ordinal)
            .Where(key => old.GetValueOrDefault(key) != now.GetValueOrDefault(key))
            .OrderBy(key => Order(key))];
    }

    /// <summary>
    /// Whether a change of <paramref name="key"/> needs a restart: its value is fixed while the server runs. A
    /// <c>Server:</c> key is spelled as the server option it sets (<see cref="ServerSettings"/>), so the server's own
    /// list decides, and the settings cannot drift from what <see cref="TalkServer.Reconfigure"/> refuses.
    /// </summary>
    public static bool NeedsRestart(string key) =>
        key.StartsWith(ServerSection, StringComparison.Ordinal)
            ? TalkServerOptions.RestartOnlyProperties.Contains(key[ServerSection.Length..], StringComparer.Ordinal)
            : RestartOnlySections.Any(s => key.StartsWith(s, StringComparison.Ordinal));

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
