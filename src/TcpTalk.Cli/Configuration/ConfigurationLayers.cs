using System.Text.Json;
using Microsoft.Extensions.Configuration;
using TcpTalk.Hosting;

namespace TcpTalk.Cli.Configuration;

/// <summary>
/// Reads the layers of <see cref="ConfigurationInputs"/>, lowest to highest (files, environment, flags), and merges
/// them into one value per key with where it came from. A list (<c>Server:Listen</c>, <c>Allow</c>, <c>Deny</c>)
/// comes whole from the highest layer that has it, never merged element by element.
/// </summary>
internal static class ConfigurationLayers
{
    /// <summary>The merged values, keyed case-insensitively (a list as <c>Server:Allow:0</c>, <c>Server:Allow:1</c>...).</summary>
    /// <exception cref="UserErrorException">A file is not JSON, not an object, or cannot be read (<see cref="ExitCode.Usage"/>).</exception>
    public static Dictionary<string, SettingEntry> Merge(ConfigurationInputs inputs)
    {
        var merged = new Dictionary<string, SettingEntry>(StringComparer.OrdinalIgnoreCase);
        foreach (string file in inputs.Files)
        {
            Apply(merged, ReadFile(file), _ => file, fromFlag: false);
        }

        Apply(merged, ReadEnvironment(inputs.Environment), key => "environment " + EnvironmentName(key), fromFlag: false);
        var flagValues = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var flagNames = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, flag, values) in inputs.Flags)
        {
            flagNames[key] = flag;
            bool isList = TalkSettingKeys.IsList(key);
            for (int i = 0; i < values.Count; i++)
            {
                flagValues[isList ? $"{key}:{i}" : key] = values[i];
            }
        }

        Apply(merged, flagValues, key => flagNames.GetValueOrDefault(TalkSettingKeys.ListOf(key) ?? key, key), fromFlag: true);
        return merged;
    }

    /// <summary>The environment variable that sets <paramref name="key"/>: <c>Server:Port</c> is <c>TCPTALK_SERVER__PORT</c>.</summary>
    public static string EnvironmentName(string key) =>
        ServeConfiguration.EnvironmentPrefix + key.Replace(":", "__", StringComparison.Ordinal).ToUpperInvariant();

    private static void Apply(Dictionary<string, SettingEntry> merged, Dictionary<string, string> values, Func<string, string> describe, bool fromFlag)
    {
        // A list comes whole from the highest layer that has it: drop what lower layers said of it.
        foreach (string list in values.Keys.Select(TalkSettingKeys.ListOf).OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase).ToList())
        {
            foreach (string stale in merged.Keys.Where(k => list.Equals(TalkSettingKeys.ListOf(k), StringComparison.OrdinalIgnoreCase)).ToList())
            {
                merged.Remove(stale);
            }

            // One value for the whole list (TCPTALK_SERVER__ALLOW="10.0.0.0/8,192.168.0.0/16"): split at commas.
            if (values.Remove(list, out string? joined))
            {
                string[] items = joined.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries);
                for (int n = 0; n < items.Length; n++)
                {
                    values[$"{list}:{n}"] = items[n];
                }
            }
        }

        foreach (var (key, value) in values)
        {
            merged[key] = new SettingEntry(value, describe(TalkSettingKeys.ListOf(key) ?? key), fromFlag);
        }
    }

    private static Dictionary<string, string> ReadEnvironment(IReadOnlyDictionary<string, string> environment)
    {
        // As .NET's environment variables provider reads them: the prefix dropped, "__" between the parts.
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in environment)
        {
            if (name.StartsWith(ServeConfiguration.EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
            {
                values[name[ServeConfiguration.EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal)] = value;
            }
        }

        return values;
    }

    private static Dictionary<string, string> ReadFile(string file)
    {
        IConfigurationRoot root;
        try
        {
            root = new ConfigurationBuilder().AddJsonFile(file, optional: false, reloadOnChange: false).Build();
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or JsonException or IOException)
        {
            throw new UserErrorException(ExitCode.Usage, DescribeUnreadable(file, e), e);
        }

        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in root.AsEnumerable())
        {
            if (value is not null)
            {
                values[key] = value;
            }
        }

        return values;
    }

    private static string DescribeUnreadable(string file, Exception error)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(file), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return $"{file}: not a JSON object (an appsettings.json holds {{ \"Server\": {{ \"Port\": 12345 }} }})";
            }
        }
        catch (JsonException e)
        {
            return $"{file}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})";
        }
        catch (IOException e)
        {
            return $"{file}: cannot be read: {e.Message}";
        }

        return $"{file}: cannot be read as configuration: {error.Message}";
    }
}

/// <summary>One setting's value in the merged configuration: the text, where it came from, and whether that was a flag.</summary>
/// <param name="Value">The value as given.</param>
/// <param name="Source">The file, <c>environment TCPTALK_SERVER__PORT</c>, or the flag's name.</param>
/// <param name="FromFlag">Whether <paramref name="Source"/> is a flag.</param>
internal readonly record struct SettingEntry(string Value, string Source, bool FromFlag);
