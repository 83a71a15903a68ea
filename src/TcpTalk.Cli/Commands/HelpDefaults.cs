using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Text.RegularExpressions;
using TcpTalk.Protocol;

namespace TcpTalk.Cli.Commands;

/// <summary>
/// Makes <c>--help</c> show every option's default, and completions offer every enum option's values, in the
/// spelling the flag accepts (<see cref="FlagText"/>): <c>[default: 10s]</c>, not <c>[default: 00:00:10]</c>.
/// Applied once to the whole command tree in Program, so every verb, present and future, gets it by itself.
/// </summary>
/// <remarks>
/// System.CommandLine 3 keeps its help layout internal and writes a default with <c>ToString()</c>, so the help
/// action is wrapped: the help is written to a buffer and each <c>[default: ToString()]</c> of the command's options
/// becomes <c>[default: flag spelling]</c>. Whitespace inside the label (a line wrapped there) is kept as it is.
/// </remarks>
internal static class HelpDefaults
{
    private static readonly Dictionary<Option, string> s_described = [];

    /// <summary>
    /// Shows <paramref name="text"/> as the default of <paramref name="option"/>, for an option whose default is not
    /// its <c>DefaultValueFactory</c> (a value that comes from configuration when the flag is absent, say). Call it
    /// before <see cref="ApplyTo"/>.
    /// </summary>
    public static void Describe(Option option, string text) => s_described[option] = text;

    /// <summary>Customizes the help of every option under <paramref name="root"/> and the completions of its enum options.</summary>
    public static void ApplyTo(RootCommand root)
    {
        var seen = new HashSet<Option>(); // the common options are shared by several verbs
        foreach (var option in Commands(root).SelectMany(c => c.Options).Where(o => o is not (HelpOption or VersionOption) && seen.Add(o)))
        {
            if (!option.HasDefaultValue && s_described.TryGetValue(option, out string? text))
            {
                option.Description = $"{option.Description} [default: {text}]";
            }

            OfferEnumSpellings(option);
        }

        foreach (var help in root.Options.OfType<HelpOption>())
        {
            if (help.Action is SynchronousCommandLineAction inner and not FlagSpellingHelpAction)
            {
                help.Action = new FlagSpellingHelpAction(inner);
            }
        }
    }

    /// <summary>What help should show as the default of <paramref name="option"/>, or null for none.</summary>
    public static string? DefaultText(Option option)
    {
        if (s_described.TryGetValue(option, out string? described))
        {
            return described;
        }

        return option.HasDefaultValue && FlagText.Format(option.GetDefaultValue()) is { Length: > 0 } text ? text : null;
    }

    /// <summary>The help of <paramref name="help"/> with each option's default rewritten in its flag spelling.</summary>
    internal static string Rewrite(string help, Command command)
    {
        foreach (var option in command.Options.Concat(Ancestors(command).SelectMany(c => c.Options).Where(o => o.Recursive)))
        {
            if (option.HasDefaultValue && option.GetDefaultValue() is { } value and not System.Collections.IEnumerable
                && value.ToString() is { Length: > 0 } shown && DefaultText(option) is { } text && text != shown)
            {
                help = Regex.Replace(help, @"\[default:(\s+)" + Regex.Escape(shown) + @"\]", m => $"[default:{m.Groups[1].Value}{text}]");
            }
        }

        return help;
    }

    /// <summary>An enum option completes to its values as the flag spells them (<c>session</c>), not as C# does (<c>Session</c>).</summary>
    private static void OfferEnumSpellings(Option option)
    {
        var type = Nullable.GetUnderlyingType(option.ValueType) ?? option.ValueType;
        if (!type.IsEnum)
        {
            return;
        }

        // Framing names are not derived from the C# names (U16BE is u16be, not u16-be).
        string[] names = type == typeof(FramingMode) ? [.. FramingModeNames.All] : [.. Enum.GetNames(type).Select(FlagText.EnumName)];
        option.CompletionSources.Clear();
        option.CompletionSources.Add(names);
    }

    private static IEnumerable<Command> Ancestors(Command command) =>
        command.Parents.OfType<Command>().SelectMany(p => Ancestors(p).Prepend(p));

    private static IEnumerable<Command> Commands(Command command) =>
        command.Subcommands.SelectMany(Commands).Prepend(command);

    /// <summary>System.CommandLine's help, written to a buffer and rewritten by <see cref="Rewrite"/>.</summary>
    private sealed class FlagSpellingHelpAction(SynchronousCommandLineAction inner) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            var configuration = parseResult.InvocationConfiguration;
            var output = configuration.Output;
            using var buffer = new StringWriter();
            configuration.Output = buffer;
            int code;
            try
            {
                code = inner.Invoke(parseResult);
            }
            finally
            {
                configuration.Output = output;
            }

            output.Write(Rewrite(buffer.ToString(), parseResult.CommandResult.Command));
            output.Flush();
            return code;
        }
    }
}
