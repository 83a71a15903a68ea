using System.CommandLine;
using System.CommandLine.Parsing;

namespace TcpTalk.Cli;

/// <summary>
/// Turns a command line that does not parse into one <c>tcptalk:</c> line on stderr and exit code 2, worded the same
/// for every verb and ending with the verb's own help command, e.g.
/// <c>tcptalk: unknown option '--bogus' (tcptalk messages --help)</c>. A command given nothing to do
/// (<c>tcptalk</c>, <c>tcptalk cert</c>) prints its help instead, as git and dotnet do, and also exits non-zero (2).
/// </summary>
internal static class UsageErrors
{
    /// <summary>Reports the errors of <paramref name="parsed"/> and returns the exit code (always 2).</summary>
    public static int Report(ParseResult parsed, TextWriter stdout, TextWriter stderr)
    {
        var command = parsed.CommandResult.Command;
        string help = HelpCommand(parsed.CommandResult);
        var unmatched = parsed.UnmatchedTokens.FirstOrDefault();
        if (unmatched is null && command.Action is null && command.Subcommands.Count > 0)
        {
            // The same help as 'tcptalk cert --help' (so with its rewritten defaults), but exit 2: nothing was done.
            string[] verbs = [.. HelpCommand(parsed.CommandResult).Split(' ')[1..^1], "--help"];
            parsed.RootCommandResult.Command.Parse(verbs).Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
            return (int)ExitCode.Usage;
        }

        // Every problem on the one line, the unknown word first; the errors System.CommandLine adds for it (and for
        // the missing verb that it was not) are said by that first part already.
        var problems = new List<string>();
        if (unmatched is not null)
        {
            problems.Add(Unmatched(command, unmatched));
        }

        problems.AddRange(parsed.Errors.Where(e => !IsAboutTheVerb(e, parsed.UnmatchedTokens)).Select(Describe));
        stderr.WriteLine($"tcptalk: {string.Join("; ", problems.Distinct())} ({help})");
        return (int)ExitCode.Usage;
    }

    /// <summary>
    /// The one wording of an unknown option, for a verb that finds one itself (<c>send</c>, whose messages may start
    /// with '-'): <c>unknown option '--bogus'</c>, then <c> (hint; tcptalk send --help)</c> when given.
    /// </summary>
    public static string UnknownOption(string token, string? hint = null, string? helpCommand = null) =>
        helpCommand is null ? $"unknown option '{token}'" : $"unknown option '{token}' ({(hint is null ? "" : hint + "; ")}{helpCommand})";

    /// <summary><c>tcptalk cert create --help</c> for the command that was being parsed.</summary>
    public static string HelpCommand(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? at = result; at is not null; at = at.Parent)
        {
            if (at is CommandResult { Command: not RootCommand } verb)
            {
                names.Insert(0, verb.Command.Name);
            }
        }

        return string.Join(' ', ["tcptalk", .. names, "--help"]);
    }

    private static string Unmatched(Command command, string token)
    {
        if (token.Length > 1 && token[0] == '-')
        {
            return UnknownOption(token);
        }

        if (command.Subcommands.Count > 0)
        {
            string verbs = string.Join(", ", command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name));
            string which = command is RootCommand ? "command" : $"{command.Name} command";
            return $"unknown {which} '{token}'; the commands are {verbs}";
        }

        return $"unexpected argument '{token}'";
    }

    /// <summary>An error about an unmatched word or a missing subcommand: a command's own error, not an option's.</summary>
    private static bool IsAboutTheVerb(ParseError error, IReadOnlyList<string> unmatched) =>
        error.SymbolResult is null or CommandResult
        && (unmatched.Any(t => error.Message.Contains($"'{t}'", StringComparison.Ordinal))
            || error.SymbolResult is CommandResult { Command: { Action: null, Subcommands.Count: > 0 } });

    /// <summary>System.CommandLine's message, worded as TcpTalk's own (no .NET type names, no final full stop).</summary>
    private static string Describe(ParseError error)
    {
        var option = error.SymbolResult as OptionResult ?? (error.SymbolResult as ArgumentResult)?.Parent as OptionResult;

        // "Cannot parse argument 'x' for option '--days' as expected type 'System.Int32'."
        if (option is not null && error.Message.StartsWith("Cannot parse argument", StringComparison.Ordinal))
        {
            var tokens = error.SymbolResult!.Tokens.Count > 0 ? error.SymbolResult.Tokens : option.Tokens;
            string text = tokens.Count > 0 ? tokens[^1].Value : "";
            return $"{option.Option.Name} '{text}' is not {Kind(option.Option.ValueType)}";
        }

        // "Option '--out' is required."
        if (option is { Option.Required: true } && error.Message.EndsWith("is required.", StringComparison.Ordinal))
        {
            return $"{option.Option.Name} is required";
        }

        // "Required argument 'host[:port]' missing for command: 'send'."
        if (error.SymbolResult is ArgumentResult { Parent: CommandResult, Tokens.Count: 0 } argument
            && error.Message.StartsWith("Required argument", StringComparison.Ordinal))
        {
            return $"missing <{argument.Argument.Name}>";
        }

        return error.Message.TrimEnd('.');
    }

    private static string Kind(Type type) =>
        (Nullable.GetUnderlyingType(type) ?? type) switch
        {
            var t when t == typeof(int) || t == typeof(long) => "a whole number",
            var t when t == typeof(double) => "a number",
            _ => "a valid value",
        };
}
