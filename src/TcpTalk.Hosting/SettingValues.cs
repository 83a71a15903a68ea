using System.Runtime.CompilerServices;

namespace TcpTalk.Hosting;

/// <summary>
/// What a settings section was given as text: the problems of values that could not be parsed (so the binder never
/// throws half-way through a section) and the text of each value, so that a range problem found later quotes what
/// the user wrote (<c>not 7200</c>) rather than a re-formatted value.
/// </summary>
internal sealed class SettingValues(string section)
{
    private readonly Dictionary<string, string> _texts = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<SettingProblem> _problems = [];

    /// <summary>The problems found while binding, in the order the values were given.</summary>
    public IReadOnlyList<SettingProblem> Problems => _problems;

    /// <summary>The text given for <paramref name="property"/>, if it was given as text.</summary>
    public string? TextOf(string property) => _texts.GetValueOrDefault(property);

    /// <summary>Parses <paramref name="text"/> and applies it, or records why it cannot be used.</summary>
    public void Parse<T>(string? text, SettingText.TryParser<T> parse, Action<T> apply, [CallerMemberName] string property = "")
    {
        _texts[property] = text ?? "";
        if (parse(text ?? "", out var value, out string? problem))
        {
            apply(value);
        }
        else
        {
            _problems.Add(new SettingProblem($"{section}:{property}", problem!));
        }
    }

    /// <summary>Replaces <paramref name="target"/> with the parsed <paramref name="values"/>, or records the first that cannot be used.</summary>
    public void ReplaceAll<T>(IList<T> target, string[]? values, SettingText.TryParser<T> parse, [CallerMemberName] string property = "")
    {
        var parsed = new List<T>();
        foreach (string value in values ?? [])
        {
            if (!parse(value, out var item, out string? error))
            {
                _problems.Add(new SettingProblem($"{section}:{property}", $"'{value}': {error}"));
                return;
            }

            parsed.Add(item);
        }

        target.Clear();
        foreach (var item in parsed)
        {
            target.Add(item);
        }
    }
}
