using System.Text;
using System.Text.Json.Nodes;
using TcpTalk.Messages;
using TcpTalk.Server;

namespace TcpTalk.Cli.Configuration;

/// <summary>
/// Writes <c>serve --print-config</c>: the effective settings as an appsettings.json (JSON with comments), each value
/// followed by a comment naming where it came from (<c>default</c>, the file, the environment variable, the flag).
/// The output is itself a valid <c>--config</c> file giving the same settings.
/// </summary>
internal static class ConfigurationPrinter
{
    public static string Print(ServeConfiguration configuration)
    {
        var json = configuration.Settings.ToJson();
        json["Server"]!.AsObject()["Output"] = configuration.Output == MessageOutputFormat.Json ? "json" : "text";
        var levels = new JsonObject();
        foreach (var (category, level) in configuration.LogLevels)
        {
            levels[category] = level.ToString();
        }

        json["Logging"] = new JsonObject { ["LogLevel"] = levels };
        var text = new StringBuilder();
        Write(text, json, path: null, indent: 0, configuration);
        return text.Append('\n').ToString();
    }

    private static void Write(StringBuilder text, JsonObject json, string? path, int indent, ServeConfiguration configuration)
    {
        text.Append("{\n");
        int i = 0;
        foreach (var (name, value) in json)
        {
            string key = path is null ? name : path + ":" + name;
            text.Append(' ', (indent + 1) * 2).Append(JsonValue.Create(name).ToJsonString()).Append(": ");
            string comma = ++i < json.Count ? "," : "";
            if (value is JsonObject section)
            {
                Write(text, section, key, indent + 1, configuration);
                text.Append(comma).Append('\n');
            }
            else
            {
                text.Append(value?.ToJsonString() ?? "null").Append(comma).Append("  // ").Append(configuration.SourceOf(key)).Append('\n');
            }
        }

        text.Append(' ', indent * 2).Append('}');
    }
}
