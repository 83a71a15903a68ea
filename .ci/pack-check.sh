#!/usr/bin/env bash
# Packs every package into artifacts/packages and checks them as a user gets them:
#  1. each library package has its README, its XML docs and a .snupkg beside it;
#  2. the tcptalk tool is three packages (.NET 10 RID-specific tools): the pointer tcptalk, the NativeAOT executable
#     tcptalk.linux-x64 and the framework-dependent fallback tcptalk.any. On linux-x64 it installs from that folder
#     into a fresh --tool-path as the native ELF executable (no tcptalk.dll anywhere in the install), prints the
#     version of Directory.Build.props and does a serve/send round trip on 127.0.0.1 with its journal; installed by
#     its own id, the fallback tcptalk.any (what other platforms get) is tcptalk.dll on the JIT with the bundled
#     native SQLite;
#  3. the C# example of each library package's README (taken from inside the .nupkg) builds against the packages,
#     and the Server and Client examples talk to each other; the Journal example reads the tool's journal; the Hosting
#     example serves the Client example from its configuration and journals the messages.
# Our packages restore into a temporary packages folder, so a stale copy of the same version in the user's NuGet
# cache can never stand in for the build; everything else restores from the usual sources (the user cache first).
# Every wait is bounded; the servers started here are stopped by their PID with SIGTERM.
set -euo pipefail
# Never 'producer | grep -q' here: grep -q exits at the first match, the producer gets SIGPIPE, and pipefail
# turns that into a failure at random. grep without -q reads everything (its output goes to /dev/null).
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
started=$SECONDS

version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)
libraries=(TcpTalk.Protocol TcpTalk.Messages TcpTalk.Client TcpTalk.Server TcpTalk.Journal TcpTalk.Journal.Postgres TcpTalk.Hosting TcpTalk.Admin TcpTalk.Spool)
packages=$PWD/artifacts/packages
user_cache=${NUGET_PACKAGES:-$HOME/.nuget/packages}
work=$(mktemp -d)
servers=()
cleanup() {
  for pid in "${servers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "pack-check: $*" >&2; exit 1; }

# wait_for FILE PATTERN SECONDS: until a line of FILE matches PATTERN (grep -E), or fail.
wait_for() {
  local deadline=$((SECONDS + $3))
  until grep -qE "$2" "$1" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || { cat "$1" >&2 || true; fail "no line matching '$2' in $1 after $3 s"; }
    sleep 0.1
  done
}

# stop PID: SIGTERM, then wait up to 20 s for it to exit; sets $stopped_code to its exit code.
stop() {
  local pid=$1 deadline=$((SECONDS + 20)) kept=() p
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null && [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" != Z ]; do
    [ $SECONDS -lt $deadline ] || fail "process $pid did not stop within 20 s of SIGTERM"
    sleep 0.1
  done
  stopped_code=0
  wait "$pid" || stopped_code=$?
  for p in "${servers[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
  servers=("${kept[@]}")
}

echo "== dotnet pack (version $version)"
rm -rf "$packages"
dotnet pack TcpTalk.slnx -c Release -o "$packages" -nologo -clp:ErrorsOnly
# The tool's implementation packages (the solution's pack made only the pointer package tcptalk; see TcpTalk.Cli.csproj).
dotnet pack src/TcpTalk.Cli -c Release -r linux-x64 -o "$packages" -nologo -clp:ErrorsOnly
dotnet pack src/TcpTalk.Cli -c Release -r any -p:PublishAot=false -o "$packages" -nologo -clp:ErrorsOnly
packed=$SECONDS

echo "== package contents"
for id in "${libraries[@]}" tcptalk; do
  nupkg=$packages/$id.$version.nupkg
  [ -f "$nupkg" ] || fail "missing $nupkg"
  [ "$id" = tcptalk ] || [ -f "${nupkg%.nupkg}.snupkg" ] || fail "missing the symbols package ${nupkg%.nupkg}.snupkg"
  files=$(unzip -Z1 "$nupkg")
  grep -qx 'README.md' <<<"$files" || fail "$id: no README.md in the package"
  unzip -p "$nupkg" "$id.nuspec" | grep '<readme>README.md</readme>' >/dev/null || fail "$id: the nuspec names no readme"
  unzip -p "$nupkg" "$id.nuspec" | grep "<repository type=\"git\"" >/dev/null || fail "$id: the nuspec has no repository (SourceLink) entry"
  if [ "$id" != tcptalk ]; then
    grep -qx "lib/net10.0/$id.xml" <<<"$files" || fail "$id: no XML docs (lib/net10.0/$id.xml) in the package"
    unzip -Z1 "${nupkg%.nupkg}.snupkg" | grep -x "lib/net10.0/$id.pdb" >/dev/null || fail "$id: no pdb in the .snupkg"
  else
    grep -qx 'tools/any/any/DotnetToolSettings.xml' <<<"$files" || fail "tcptalk: not a RID-specific .NET tool pointer package"
    unzip -p "$nupkg" tools/any/any/DotnetToolSettings.xml | grep 'RuntimeIdentifier="linux-x64"' >/dev/null \
      || fail "tcptalk: the pointer package names no linux-x64 package"
    unzip -p "$nupkg" tools/any/any/DotnetToolSettings.xml | grep 'RuntimeIdentifier="any"' >/dev/null \
      || fail "tcptalk: the pointer package names no 'any' fallback package"
  fi
  echo "$id $version: README, $( [ "$id" = tcptalk ] && echo 'pointer to linux-x64 and any' || echo 'XML docs, snupkg')"
done
native_files=$(unzip -Z1 "$packages/tcptalk.linux-x64.$version.nupkg")
grep -E '^tools/[^/]+/linux-x64/tcptalk$' <<<"$native_files" >/dev/null || fail "tcptalk.linux-x64: no native tools/*/linux-x64/tcptalk"
! grep -E '\.dll$' <<<"$native_files" >/dev/null || fail "tcptalk.linux-x64: managed assemblies in the NativeAOT package: $(grep -E '\.dll$' <<<"$native_files" | head -3)"
any_files=$(unzip -Z1 "$packages/tcptalk.any.$version.nupkg")
grep -E '^tools/net10\.0/any/tcptalk\.dll$' <<<"$any_files" >/dev/null || fail "tcptalk.any: no tools/net10.0/any/tcptalk.dll"
[ -f "$packages/tcptalk.any.$version.snupkg" ] || fail "missing the symbols package tcptalk.any.$version.snupkg"
echo "tcptalk.linux-x64 $version: one native executable; tcptalk.any $version: tcptalk.dll (JIT), snupkg"

# Our packages come from $packages only, into a packages folder of this run; the rest from the user cache first.
mkdir -p "$work/nuget"
fallback=""
if ! ls -d "$user_cache"/{tcptalk,tcptalk.linux-x64,tcptalk.any,tcptalk.protocol,tcptalk.client,tcptalk.server,tcptalk.journal,tcptalk.hosting,tcptalk.admin,tcptalk.messages}/"$version" >/dev/null 2>&1; then
  fallback="<fallbackPackageFolders><add key=\"user-cache\" value=\"$user_cache\" /></fallbackPackageFolders>"
fi
cat >"$work/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources><add key="tcptalk-local" value="$packages" /></packageSources>
  $fallback
</configuration>
EOF
export NUGET_PACKAGES=$work/nuget

echo "== dotnet tool install tcptalk into a fresh tool path"
(cd "$work" && dotnet tool install tcptalk --version "$version" --tool-path "$work/tools" --add-source "$packages")
tcptalk=$work/tools/tcptalk
# The command is the NativeAOT executable itself: an ELF file (magic 7f 'E' 'L' 'F'), with no managed tcptalk.dll
# anywhere in the install (a JIT tool is tcptalk.dll run by an apphost shim).
native=$(readlink -f "$tcptalk")
[ "$(head -c 4 "$native" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] || fail "the installed $native is not an ELF executable"
! find "$work/tools" -name 'tcptalk.dll' | grep . >/dev/null || fail "the linux-x64 install has a tcptalk.dll: $(find "$work/tools" -name tcptalk.dll)"
find "$work/tools/.store" -path '*tcptalk.linux-x64*' -name tcptalk -type f | grep . >/dev/null || fail "the install is not the tcptalk.linux-x64 package"
echo "installed: $native ($(stat -c %s "$native") bytes, native ELF, no tcptalk.dll)"
printed=$("$tcptalk" --version)
echo "tcptalk --version: $printed"
[[ "$printed" == "$version" || "$printed" == "$version+"* ]] || fail "tcptalk --version printed '$printed', not $version"

echo "== the fallback package tcptalk.any (what platforms without a package of their own get), installed on its own"
# The pointer names it (checked above); on linux-x64 the CLI always picks tcptalk.linux-x64 (--arch arm64 fails at
# the shim: the SDK has no linux-arm64 apphost here), so the fallback is installed by its own id.
(cd "$work" && dotnet tool install tcptalk.any --version "$version" --tool-path "$work/tools-any" --add-source "$packages")
fallback_dll=$(find "$work/tools-any/.store" -path '*tcptalk.any*' -name tcptalk.dll | head -1)
[ -n "$fallback_dll" ] || fail "the tcptalk.any install has no tcptalk.dll: $(find "$work/tools-any" | head -20)"
printed=$("$work/tools-any/tcptalk" --version)
[[ "$printed" == "$version" || "$printed" == "$version+"* ]] || fail "the fallback's tcptalk --version printed '$printed', not $version"
echo "fallback: $work/tools-any/tcptalk (apphost shim for $fallback_dll, JIT) --version: $printed"

echo "== the installed tool: serve (journal on, the default) / send round trip on 127.0.0.1"
mkdir -p "$work/tool-run"
cd "$work/tool-run"
"$tcptalk" serve --listen 127.0.0.1:0 >serve.out 2>serve.err &
servers+=($!); serve_pid=$!
wait_for serve.err 'Listening on 127\.0\.0\.1:[0-9]+' 30
port=$(sed -n 's/.*Listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' serve.err | head -1)
timeout 30 "$tcptalk" send "127.0.0.1:$port" "hello from the tool package" >send.out
grep -qx 'Welcome 127.0.0.1!' send.out || fail "send printed no greeting: $(cat send.out)"
wait_for serve.out ' 127\.0\.0\.1:[0-9]+ hello from the tool package$' 10
stop "$serve_pid"
[ "$stopped_code" = 0 ] || { cat serve.err >&2; fail "tcptalk serve exited $stopped_code after SIGTERM, not 0"; }
[ -f tcptalk.db ] || fail "tcptalk serve wrote no journal (tcptalk.db)"
timeout 30 "$tcptalk" messages | grep ' hello from the tool package$' >/dev/null || fail "tcptalk messages does not show the message"
echo "served, printed and journalled: $(cat serve.out)"
cd - >/dev/null

echo "== the package READMEs' examples, built against the packages"
mkdir -p "$work/examples"
{
  echo '<Solution>'
  for id in "${libraries[@]}"; do
    dir=$work/examples/$id
    mkdir -p "$dir"
    # The first ```csharp block of the README inside the package is the program.
    unzip -p "$packages/$id.$version.nupkg" README.md | tr -d '\r' \
      | awk '/^```csharp$/ { on = 1; next } on && /^```$/ { exit } on { print }' >"$dir/Program.cs"
    [ -s "$dir/Program.cs" ] || fail "$id: README.md has no \`\`\`csharp example"
    cat >"$dir/$id.Example.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
    <OutDir>$work/examples/bin/</OutDir>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="$id" Version="$version" />
  </ItemGroup>
</Project>
EOF
    echo "  <Project Path=\"$id/$id.Example.csproj\" />"
  done
  echo '</Solution>'
} >"$work/examples/examples.slnx"
(cd "$work/examples" && dotnet build examples.slnx -c Release -nologo -clp:ErrorsOnly)
bin=$work/examples/bin

cd "$work/examples"
protocol=$("$bin/TcpTalk.Protocol.Example")
[ "$(head -2 <<<"$protocol")" = $'hello\nworld' ] || fail "the Protocol example printed '$protocol'"
echo "Protocol example: $(tr '\n' '|' <<<"$protocol")"

messages=$("$bin/TcpTalk.Messages.Example")
[ "$(head -3 <<<"$messages")" = $'2 messages from 127.0.0.1:40000\nhello\nworld' ] || fail "the Messages example printed '$messages'"
echo "Messages example: $(tr '\n' '|' <<<"$messages")"

"$bin/TcpTalk.Server.Example" 0 >server.out 2>server.err &
servers+=($!); server_pid=$!
wait_for server.out '^Listening on 127\.0\.0\.1:[0-9]+$' 30
port=$(sed -n 's/^Listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' server.out)
client=$(timeout 30 "$bin/TcpTalk.Client.Example" 127.0.0.1 "$port")
[ "$client" = 'Welcome 127.0.0.1!' ] || fail "the Client example printed '$client'"
wait_for server.out '^127\.0\.0\.1:[0-9]+ says world$' 10
grep -qE '^127\.0\.0\.1:[0-9]+ says hello$' server.out || fail "the Server example did not print hello: $(cat server.out)"
stop "$server_pid"
echo "Server + Client examples: $(tr '\n' '|' <server.out)"

journal=$(timeout 30 "$bin/TcpTalk.Journal.Example" "$work/tool-run/tcptalk.db")
grep -qE '^#1 .* 127\.0\.0\.1:[0-9]+ hello from the tool package$' <<<"$journal" || fail "the Journal example printed '$journal'"
echo "Journal example: $journal"

# The Hosting example takes its settings from the command line (the Generic Host's last configuration source).
"$bin/TcpTalk.Hosting.Example" --TcpTalk:Server:Listen:0=127.0.0.1:0 --TcpTalk:Journal:Path="$work/hosting.db" >hosting.out 2>&1 &
servers+=($!); hosting_pid=$!
wait_for hosting.out 'Listening on 127\.0\.0\.1:[0-9]+' 30
port=$(sed -n 's/.*Listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' hosting.out | head -1)
client=$(timeout 30 "$bin/TcpTalk.Client.Example" 127.0.0.1 "$port")
[ "$client" = 'Welcome 127.0.0.1!' ] || fail "the Client example, served by the Hosting example, printed '$client'"
wait_for hosting.out '^127\.0\.0\.1:[0-9]+ says world$' 10
stop "$hosting_pid"
[ "$stopped_code" = 0 ] || { cat hosting.out >&2; fail "the Hosting example exited $stopped_code after SIGTERM, not 0"; }
[ -f "$work/hosting.db" ] || fail "the Hosting example wrote no journal ($work/hosting.db)"
echo "Hosting example: $(grep -c ' says ' hosting.out) message(s) served and journalled in hosting.db"

# The Spool example delivers two messages through its spool to the installed tool's serve --ack.
mkdir -p "$work/spool-run"
"$tcptalk" serve --listen 127.0.0.1:0 --ack --journal "$work/spool-run/serve.db" >"$work/spool-run/serve.out" 2>"$work/spool-run/serve.err" &
servers+=($!); spool_serve_pid=$!
wait_for "$work/spool-run/serve.err" 'Listening on 127\.0\.0\.1:[0-9]+' 30
port=$(sed -n 's/.*Listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/spool-run/serve.err" | head -1)
spooled=$(timeout 60 "$bin/TcpTalk.Spool.Example" 127.0.0.1 "$port" "$work/spool-run/spool")
[ "$spooled" = 'delivered 2, left 0' ] || fail "the Spool example printed '$spooled'"
wait_for "$work/spool-run/serve.out" ' 127\.0\.0\.1:[0-9]+ world$' 10
stop "$spool_serve_pid"
echo "Spool example: $spooled"

echo "pack-check: passed in $((SECONDS - started)) s (pack $((packed - started)) s, checks $((SECONDS - packed)) s)"
