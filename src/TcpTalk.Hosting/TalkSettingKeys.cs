using System.Globalization;
using System.Text.Json;

namespace TcpTalk.Hosting;

/// <summary>
/// The configuration keys of <see cref="TalkServerSettings"/> (<c>Server:Port</c>, <c>Journal:Path</c>,
/// <c>Tls:Certificate</c>...), relative to the section the settings are bound from, spelled as the properties are.
/// Derived from the settings classes themselves, so a new property is a new key here without a list to update.
/// </summary>
public static class TalkSettingKeys
{
    private static readonly Dictionary<string, JsonValueKind> Kinds = Flatten();

    /// <summary>The sections: <c>Server</c>, <c>Journal</c>, <c>Tls</c>, <c>Admin</c>.</summary>
    public static IReadOnlyList<string> Sections { get; } = ["Server", "Journal", "Tls", "Admin"];

    /// <summary>Every key, in the order of the properties (<c>Server:Port</c> first).</summary>
    public static IReadOnlyList<string> All { get; } = [.. Kinds.Keys];

    /// <summary>Whether <paramref name="key"/> (any case) is one of <see cref="All"/>.</summary>
    public static bool Contains(string key) => Kinds.ContainsKey(key);

    /// <summary>Whether <paramref name="key"/> is a list setting (<c>Server:Listen</c>, <c>Server:Allow</c>, <c>Server:Deny</c>).</summary>
    public static bool IsList(string key) => Kinds.TryGetValue(key, out var kind) && kind == JsonValueKind.Array;

    /// <summary>The list setting <paramref name="key"/> is (<c>Server:Listen</c>) or is an element of (<c>Server:Listen:0</c>); else null.</summary>
    public static string? ListOf(string key)
    {
        if (Kinds.ContainsKey(key))
        {
            return IsList(key) ? Canonical(key) : null;
        }

        int colon = key.LastIndexOf(':');
        return colon > 0 && int.TryParse(key.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out _) && IsList(key[..colon])
            ? Canonical(key[..colon]) : null;
    }

    /// <summary><paramref name="key"/> spelled as <see cref="All"/> spells it (<c>server:port</c> is <c>Server:Port</c>); an unknown key with its section's spelling.</summary>
    public static string Canonical(string key)
    {
        if (All.FirstOrDefault(k => k.Equals(key, StringComparison.OrdinalIgnoreCase)) is { } known)
        {
            return known;
        }

        string[] parts = key.Split(':');
        if (Sections.FirstOrDefault(s => s.Equals(parts[0], StringComparison.OrdinalIgnoreCase)) is { } section)
        {
            parts[0] = section;
        }

        return string.Join(':', parts);
    }

    /// <summary>Whether <paramref name="key"/> is in one of <see cref="Sections"/> (known there or not).</summary>
    internal static bool IsInSections(string key) =>
        Sections.Any(s => key.StartsWith(s + ":", StringComparison.OrdinalIgnoreCase) || key.Equals(s, StringComparison.OrdinalIgnoreCase));

    /// <summary>The JSON kind of the default value of <paramref name="key"/> (a list element is a string).</summary>
    internal static JsonValueKind KindOf(string key) => ListOf(key) is not null && !Kinds.ContainsKey(key) ? JsonValueKind.String : Kinds[key];

    private static Dictionary<string, JsonValueKind> Flatten()
    {
        var keys = new Dictionary<string, JsonValueKind>(StringComparer.OrdinalIgnoreCase);
        void Visit(JsonElement element, string? path)
        {
            foreach (var property in element.EnumerateObject())
            {
                string key = path is null ? property.Name : path + ":" + property.Name;
                if (property.Value.ValueKind == JsonValueKind.Object)
                {
                    Visit(property.Value, key);
                }
                else
                {
                    keys[key] = property.Value.ValueKind;
                }
            }
        }

        Visit(JsonSerializer.SerializeToElement(new TalkServerSettings(), TalkServerSettingsJson.Default.TalkServerSettings), null);
        return keys;
    }
}
