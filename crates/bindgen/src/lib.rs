//! Writes `ui/src/commands.generated.ts`, the UI's typed command functions, from the Tauri
//! commands themselves: every `#[tauri::command]` function in `src-tauri/src/commands/*.rs`,
//! read with `syn` (the desktop crate is never compiled), checked against the list that
//! `tauri::generate_handler!` registers in `commands/mod.rs`.
//!
//! Each command becomes one TypeScript function with Tauri's camelCase argument names, its
//! arguments in Rust's order, and the types `ts-rs` writes to `ui/src/bindings/` (the same
//! name as the Rust type; a type without a binding is refused, so nothing is typed `any`).
//! `State`, `AppHandle`, `Window`, `Webview` and `WebviewWindow` arguments are Tauri's and
//! skipped; `Channel<T>` stays a channel argument; `Result<T, UserError>` resolves with `T`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use syn::{Attribute, FnArg, GenericArgument, Item, Pat, PathArguments, ReturnType, Type};

/// Where the generated file goes, from the repository's root.
pub const OUTPUT: &str = "ui/src/commands.generated.ts";
/// Where the commands are, from the repository's root.
pub const COMMANDS_DIR: &str = "src-tauri/src/commands";
/// Where ts-rs writes the types, from the repository's root.
pub const BINDINGS_DIR: &str = "ui/src/bindings";

/// Arguments Tauri fills in itself; the UI never sends them.
const INJECTED: &[&str] = &["State", "AppHandle", "Window", "Webview", "WebviewWindow"];

/// Everything that stops the generation, each problem on its own line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub Vec<String>);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.0 {
            writeln!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// One command as the UI sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The name `invoke` takes: the Rust function's.
    pub name: String,
    /// The file it is in (`connect` for `commands/connect.rs`).
    pub module: String,
    /// Its `///` lines.
    pub docs: Vec<String>,
    /// What the UI sends, in Rust's order.
    pub args: Vec<Arg>,
    /// What it resolves with, as TypeScript.
    pub result: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    /// The key in `invoke`'s arguments (camelCase unless the command says snake_case).
    pub key: String,
    /// TypeScript type; `Channel<T>` for a channel.
    pub ty: String,
    /// The message type when the argument is a `Channel<T>`.
    pub channel: Option<String>,
}

/// A source file of `src-tauri/src/commands`: its stem (`connect`, `mod`) and text.
pub struct Source {
    pub module: String,
    pub text: String,
}

/// Reads the commands under `root` and returns the generated file's text.
pub fn generate(root: &Path) -> Result<String, Error> {
    let commands = read_commands(root)?;
    Ok(render(&commands))
}

/// Reads `root/src-tauri/src/commands/*.rs` and the binding names in `root/ui/src/bindings`.
pub fn read_commands(root: &Path) -> Result<Vec<Command>, Error> {
    let io = |p: &Path, e: std::io::Error| Error(vec![format!("cannot read {}: {e}", p.display())]);
    let dir = root.join(COMMANDS_DIR);
    let mut sources = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| io(&dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    paths.sort();
    for p in paths {
        let text = std::fs::read_to_string(&p).map_err(|e| io(&p, e))?;
        let module = p
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        sources.push(Source { module, text });
    }
    let bdir = root.join(BINDINGS_DIR);
    let bindings: BTreeSet<String> = std::fs::read_dir(&bdir)
        .map_err(|e| io(&bdir, e))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".ts")
                .map(str::to_owned)
        })
        .collect();
    parse(&sources, &bindings)
}

/// The commands `generate_handler!` in `mod.rs` registers, in its order, each read from its
/// file. Fails naming every registered function that is not a command and every command that
/// is not registered, and every type it cannot map.
pub fn parse(sources: &[Source], bindings: &BTreeSet<String>) -> Result<Vec<Command>, Error> {
    let mut problems = Vec::new();
    let mut defined: BTreeMap<(String, String), Command> = BTreeMap::new();
    // Commands found but refused: their problem is reported once, not again as unregistered.
    let mut refused: BTreeSet<(String, String)> = BTreeSet::new();
    let mut handler: Option<Vec<(String, String)>> = None;
    for src in sources {
        let file = match syn::parse_file(&src.text) {
            Ok(f) => f,
            Err(e) => {
                problems.push(format!("{}/{}.rs: {e}", COMMANDS_DIR, src.module));
                continue;
            }
        };
        let aliases = aliases(&file.items);
        for item in &file.items {
            let Item::Fn(f) = item else { continue };
            if src.module == "mod" {
                if let Some(list) = handler_list(f) {
                    if handler.is_some() {
                        problems.push("commands/mod.rs has two generate_handler! lists".into());
                    }
                    handler = Some(list);
                }
            }
            let Some(camel) = command_attr(&f.attrs) else {
                continue;
            };
            let camel = match camel {
                Ok(c) => c,
                Err(e) => {
                    problems.push(format!("{}::{}: {e}", src.module, f.sig.ident));
                    refused.insert((src.module.clone(), f.sig.ident.to_string()));
                    continue;
                }
            };
            let ctx = Ctx {
                bindings,
                aliases: &aliases,
            };
            match command(f, &src.module, camel, &ctx) {
                Ok(c) => {
                    defined.insert((src.module.clone(), c.name.clone()), c);
                }
                Err(e) => {
                    problems.extend(
                        e.into_iter()
                            .map(|e| format!("{}::{}: {e}", src.module, f.sig.ident)),
                    );
                    refused.insert((src.module.clone(), f.sig.ident.to_string()));
                }
            }
        }
    }
    let Some(handler) = handler else {
        problems.push(format!(
            "no tauri::generate_handler! list in {COMMANDS_DIR}/mod.rs"
        ));
        return Err(Error(problems));
    };
    let mut out = Vec::new();
    let mut names = BTreeSet::new();
    for key in &handler {
        let shown = if key.0 == "mod" {
            key.1.clone()
        } else {
            format!("{}::{}", key.0, key.1)
        };
        if !names.insert(key.1.clone()) {
            problems.push(format!(
                "generate_handler! registers a second command named {}",
                key.1
            ));
        }
        match defined.remove(key) {
            Some(c) => out.push(c),
            None if refused.contains(key) => {}
            None => problems.push(format!(
                "generate_handler! registers {shown}, which is not a #[tauri::command] fn in {COMMANDS_DIR}/{}.rs",
                key.0
            )),
        }
    }
    for (module, name) in defined.keys() {
        problems.push(format!(
            "{COMMANDS_DIR}/{module}.rs: #[tauri::command] fn {name} is not registered in generate_handler! (commands/mod.rs)"
        ));
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(Error(problems))
    }
}

/// `type App<'a> = State<'a, Arc<Slipway>>;` and the like, by name.
fn aliases(items: &[Item]) -> BTreeMap<String, Type> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Type(t) if t.generics.type_params().next().is_none() => {
                Some((t.ident.to_string(), (*t.ty).clone()))
            }
            _ => None,
        })
        .collect()
}

/// `Some(Ok(camelCase))` for `#[tauri::command]` / `#[command]`.
fn command_attr(attrs: &[Attribute]) -> Option<Result<bool, String>> {
    let attr = attrs.iter().find(|a| {
        let segs: Vec<String> = a
            .path()
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        segs == ["tauri", "command"] || segs == ["command"]
    })?;
    if matches!(attr.meta, syn::Meta::Path(_)) {
        return Some(Ok(true));
    }
    let mut camel = true;
    let r = attr.parse_nested_meta(|m| {
        if m.path.is_ident("rename_all") {
            let v: syn::LitStr = m.value()?.parse()?;
            match v.value().as_str() {
                "camelCase" => camel = true,
                "snake_case" => camel = false,
                other => {
                    return Err(m.error(format!("rename_all = \"{other}\" is not one Tauri has")))
                }
            }
        } else if m.path.is_ident("async") {
            // #[tauri::command(async)]: no effect on the arguments.
        } else {
            // root = "crate" and such: no effect on what the UI sends.
            let _ = m.value().and_then(|v| v.parse::<syn::Expr>());
        }
        Ok(())
    });
    Some(r.map(|_| camel).map_err(|e| e.to_string()))
}

/// The `module::fn` paths in a `generate_handler![...]` inside `f`'s body.
fn handler_list(f: &syn::ItemFn) -> Option<Vec<(String, String)>> {
    fn mac(e: &syn::Expr) -> Option<&syn::Macro> {
        match e {
            syn::Expr::Macro(m) => Some(&m.mac),
            _ => None,
        }
    }
    for stmt in &f.block.stmts {
        let m = match stmt {
            syn::Stmt::Macro(m) => &m.mac,
            syn::Stmt::Expr(e, _) => match mac(e) {
                Some(m) => m,
                None => continue,
            },
            _ => continue,
        };
        if m.path
            .segments
            .last()
            .is_none_or(|s| s.ident != "generate_handler")
        {
            continue;
        }
        let paths = m
            .parse_body_with(
                syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
            )
            .ok()?;
        return Some(
            paths
                .iter()
                .map(|p| {
                    let segs: Vec<String> =
                        p.segments.iter().map(|s| s.ident.to_string()).collect();
                    match segs.as_slice() {
                        [name] => ("mod".to_string(), name.clone()),
                        [.., module, name] => (module.clone(), name.clone()),
                        [] => (String::new(), String::new()),
                    }
                })
                .collect(),
        );
    }
    None
}

struct Ctx<'a> {
    bindings: &'a BTreeSet<String>,
    aliases: &'a BTreeMap<String, Type>,
}

fn command(f: &syn::ItemFn, module: &str, camel: bool, ctx: &Ctx) -> Result<Command, Vec<String>> {
    let mut problems = Vec::new();
    let mut args = Vec::new();
    for input in &f.sig.inputs {
        let FnArg::Typed(pt) = input else {
            problems.push("a command cannot take self".to_string());
            continue;
        };
        let Pat::Ident(id) = &*pt.pat else {
            problems.push("every argument needs a plain name (Tauri sends them by name)".into());
            continue;
        };
        let rust = id.ident.to_string();
        let ty = ctx.resolve(&pt.ty);
        if INJECTED.contains(&last_ident(ty).as_str()) {
            continue;
        }
        let key = if camel {
            lower_camel(&rust)
        } else {
            rust.clone()
        };
        if last_ident(ty) == "Channel" {
            match single_arg(ty).map(|t| ts(t, ctx)) {
                Some(Ok(msg)) => args.push(Arg {
                    key,
                    ty: format!("Channel<{msg}>"),
                    channel: Some(msg),
                }),
                Some(Err(e)) => problems.push(format!("argument {rust}: {e}")),
                None => problems.push(format!("argument {rust}: Channel needs its message type")),
            }
            continue;
        }
        match ts(ty, ctx) {
            Ok(t) => args.push(Arg {
                key,
                ty: t,
                channel: None,
            }),
            Err(e) => problems.push(format!("argument {rust}: {e}")),
        }
    }
    let result = match &f.sig.output {
        ReturnType::Default => Ok("null".to_string()),
        ReturnType::Type(_, ty) => {
            let ty = ctx.resolve(ty);
            if last_ident(ty) == "Result" {
                match generic_args(ty).as_slice() {
                    [ok, err] if last_ident(ctx.resolve(err)) == "UserError" => ts(ok, ctx),
                    [_, err] => Err(format!(
                        "returns Result<_, {}>: commands reject with UserError, so the UI can show what / why / next",
                        last_ident(err)
                    )),
                    _ => Err("returns a Result without its error type".to_string()),
                }
            } else {
                ts(ty, ctx)
            }
        }
    };
    let result = result.unwrap_or_else(|e| {
        problems.push(format!("return type: {e}"));
        String::new()
    });
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Command {
        name: f.sig.ident.to_string(),
        module: module.to_string(),
        docs: docs(&f.attrs),
        args,
        result,
    })
}

impl Ctx<'_> {
    /// Follows local type aliases (`App<'_>` to `State<'_, Arc<Slipway>>`).
    fn resolve<'t>(&'t self, ty: &'t Type) -> &'t Type {
        let mut ty = ty;
        for _ in 0..8 {
            match self.aliases.get(&last_ident(ty)) {
                Some(t) if matches!(ty, Type::Path(_)) => ty = t,
                _ => break,
            }
        }
        ty
    }
}

fn last_ident(ty: &Type) -> String {
    match ty {
        Type::Path(p) => p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        Type::Reference(r) => last_ident(&r.elem),
        Type::Paren(p) => last_ident(&p.elem),
        _ => String::new(),
    }
}

fn generic_args(ty: &Type) -> Vec<&Type> {
    let Type::Path(p) = ty else { return vec![] };
    let Some(seg) = p.path.segments.last() else {
        return vec![];
    };
    match &seg.arguments {
        PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|a| match a {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => vec![],
    }
}

fn single_arg(ty: &Type) -> Option<&Type> {
    match generic_args(ty).as_slice() {
        [t] => Some(t),
        _ => None,
    }
}

/// The TypeScript for a Rust type, as serde_json sends it and ts-rs names it.
fn ts(ty: &Type, ctx: &Ctx) -> Result<String, String> {
    let ty = ctx.resolve(ty);
    match ty {
        Type::Reference(r) => return ts(&r.elem, ctx),
        Type::Paren(p) => return ts(&p.elem, ctx),
        Type::Tuple(t) if t.elems.is_empty() => return Ok("null".into()),
        Type::Slice(s) => return Ok(format!("Array<{}>", ts(&s.elem, ctx)?)),
        Type::Path(_) => {}
        _ => return Err("only named types, references, slices and () map to TypeScript".into()),
    }
    let name = last_ident(ty);
    let args = generic_args(ty);
    let one = || -> Result<String, String> {
        match args.as_slice() {
            [t] => ts(t, ctx),
            _ => Err(format!("{name} needs one type argument")),
        }
    };
    Ok(match name.as_str() {
        "String" | "str" | "char" | "PathBuf" | "Path" => "string".into(),
        "bool" => "boolean".into(),
        "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64" | "isize" | "f32" | "f64" => {
            "number".into()
        }
        "Option" => {
            let t = one()?;
            if t.ends_with("| null") || t == "null" {
                t
            } else {
                format!("{t} | null")
            }
        }
        "Vec" | "VecDeque" | "HashSet" | "BTreeSet" => format!("Array<{}>", one()?),
        "Box" | "Arc" | "Rc" => one()?,
        "HashMap" | "BTreeMap" => match args.as_slice() {
            [k, v] => format!("{{ [key in {}]?: {} }}", ts(k, ctx)?, ts(v, ctx)?),
            _ => return Err(format!("{name} needs a key and a value type")),
        },
        "Value" => "unknown".into(),
        "Channel" => return Err("a Channel is only an argument of its own".into()),
        "Result" => return Err("a Result is only the whole return type".into()),
        _ if ctx.bindings.contains(&name) => {
            if args.is_empty() {
                name
            } else {
                let a: Result<Vec<String>, String> = args.iter().map(|t| ts(t, ctx)).collect();
                format!("{name}<{}>", a?.join(", "))
            }
        }
        _ => {
            return Err(format!(
                "{name} has no TypeScript binding in {BINDINGS_DIR}/{name}.ts: derive ts_rs::TS with #[ts(export)] on it \
                 and run the tests of the crate that owns it"
            ))
        }
    })
}

/// Tauri's argument names: `git_ref` is sent as `gitRef`.
pub fn lower_camel(s: &str) -> String {
    let mut out = String::new();
    for (i, w) in s.split('_').filter(|w| !w.is_empty()).enumerate() {
        if i == 0 {
            out.push_str(&w.to_lowercase());
        } else {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                out.extend(f.to_uppercase());
                out.push_str(&c.as_str().to_lowercase());
            }
        }
    }
    out
}

fn docs(attrs: &[Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) if nv.path.is_ident("doc") => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .map(|l| l.strip_prefix(' ').unwrap_or(&l).replace("*/", "*\\/"))
        .collect()
}

/// Words a parameter cannot be called in TypeScript; such a parameter gets a `_` after it.
const RESERVED: &[&str] = &[
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "import",
    "in",
    "instanceof",
    "new",
    "null",
    "return",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
    "let",
    "static",
    "implements",
    "interface",
    "package",
    "private",
    "protected",
    "public",
    "await",
];

fn param(key: &str) -> String {
    if RESERVED.contains(&key) {
        format!("{key}_")
    } else {
        key.to_string()
    }
}

fn jsdoc(out: &mut String, indent: &str, lines: &[String]) {
    match lines {
        [] => {}
        [one] => out.push_str(&format!("{indent}/** {one} */\n")),
        many => {
            out.push_str(&format!("{indent}/**\n"));
            for l in many {
                if l.is_empty() {
                    out.push_str(&format!("{indent} *\n"));
                } else {
                    out.push_str(&format!("{indent} * {l}\n"));
                }
            }
            out.push_str(&format!("{indent} */\n"));
        }
    }
}

/// The TypeScript module: the command table as types, and `makeCommands`.
pub fn render(commands: &[Command]) -> String {
    let mut imports = BTreeSet::new();
    let mut channel = false;
    let mut note = |t: &str| {
        let mut word = String::new();
        for ch in t.chars().chain(std::iter::once(' ')) {
            if ch.is_alphanumeric() || ch == '_' {
                word.push(ch);
            } else {
                if word.starts_with(|c: char| c.is_ascii_uppercase())
                    && !matches!(word.as_str(), "Array" | "Channel" | "Record" | "Promise")
                {
                    imports.insert(word.clone());
                }
                word.clear();
            }
        }
    };
    for c in commands {
        note(&c.result);
        for a in &c.args {
            note(&a.ty);
            channel |= a.channel.is_some();
        }
    }
    let mut out = String::new();
    out.push_str(
        "// Generated by slipway-bindgen (crates/bindgen) from the #[tauri::command] functions in\n\
         // src-tauri/src/commands/ that `generate_handler!` registers. Do not edit: change the Rust\n\
         // command, then run `cargo run -p slipway-bindgen` (scripts/test.sh fails when this file is stale).\n\n",
    );
    if channel {
        out.push_str("import type { Channel } from \"@tauri-apps/api/core\";\n\n");
    }
    for i in &imports {
        out.push_str(&format!("import type {{ {i} }} from \"./bindings/{i}\";\n"));
    }
    out.push_str("\n/** Every command `generate_handler!` registers, in its order. */\nexport const COMMAND_NAMES = [\n");
    for c in commands {
        out.push_str(&format!("  \"{}\",\n", c.name));
    }
    out.push_str("] as const;\n\nexport type CommandName = (typeof COMMAND_NAMES)[number];\n\n");
    out.push_str("/** What each command takes, as `invoke` sends it (Tauri's argument names). */\nexport type CommandArgs = {\n");
    for c in commands {
        if c.args.is_empty() {
            out.push_str(&format!("  {}: Record<string, never>;\n", c.name));
        } else {
            let fields: Vec<String> = c
                .args
                .iter()
                .map(|a| format!("{}: {}", a.key, a.ty))
                .collect();
            out.push_str(&format!("  {}: {{ {} }};\n", c.name, fields.join("; ")));
        }
    }
    out.push_str("};\n\n/** What each command resolves with (`null` for Rust's `()`). */\nexport type CommandResult = {\n");
    for c in commands {
        out.push_str(&format!("  {}: {};\n", c.name, c.result));
    }
    out.push_str("};\n\n/** The message type of each command that streams through a channel argument. */\nexport type CommandChannel = {\n");
    for c in commands {
        for a in c.args.iter().filter(|a| a.channel.is_some()) {
            out.push_str(&format!(
                "  {}: {};\n",
                c.name,
                a.channel.as_deref().unwrap_or_default()
            ));
        }
    }
    out.push_str(
        "};\n\n/** Sends one command and resolves with its answer (api.ts gives `call`, which rejects only with a UserError). */\n\
         export type Invoke = <K extends CommandName>(command: K, args: CommandArgs[K]) => Promise<CommandResult[K]>;\n\n\
         /** One function per command, its arguments in Rust's order. */\n\
         export function makeCommands(invoke: Invoke) {\n  return {\n",
    );
    for c in commands {
        jsdoc(&mut out, "    ", &c.docs);
        let params: Vec<String> = c
            .args
            .iter()
            .map(|a| format!("{}: {}", param(&a.key), a.ty))
            .collect();
        let sent: Vec<String> = c
            .args
            .iter()
            .map(|a| {
                if param(&a.key) == a.key {
                    a.key.clone()
                } else {
                    format!("{}: {}", a.key, param(&a.key))
                }
            })
            .collect();
        let sent = if sent.is_empty() {
            "{}".to_string()
        } else {
            format!("{{ {} }}", sent.join(", "))
        };
        out.push_str(&format!(
            "    {}: ({}): Promise<{}> => invoke(\"{}\", {}),\n",
            lower_camel(&c.name),
            params.join(", "),
            c.result,
            c.name,
            sent
        ));
    }
    out.push_str("  };\n}\n\nexport type Commands = ReturnType<typeof makeCommands>;\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bindings(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn src(module: &str, text: &str) -> Source {
        Source {
            module: module.into(),
            text: text.into(),
        }
    }

    const MOD: &str = "mod logs; pub fn handler() -> H { tauri::generate_handler![logs::follow, logs::steps, logs::plain] }";

    const LOGS: &str = r#"
        use tauri::ipc::Channel;
        type App<'a> = State<'a, Arc<Slipway>>;

        /// Streams a step's log.
        /// Ends with `done`.
        #[tauri::command]
        pub async fn follow(app: App<'_>, streams: State<'_, Streams>, run_id: u64, git_ref: Option<String>,
                            on_chunk: Channel<LogChunk>) -> Result<u64, UserError> { todo!() }

        #[tauri::command(rename_all = "snake_case")]
        pub fn steps(window: tauri::Window, run_id: String, stage: Option<StageName>) -> Vec<String> { todo!() }

        #[tauri::command]
        pub fn plain(handle: AppHandle, pages: Vec<Page<GhRepo>>, extra: serde_json::Value, default: bool) {}

        fn helper(x: u32) -> u32 { x }
    "#;

    #[test]
    fn commands_are_read_with_tauri_argument_names_and_ts_rs_types() {
        let b = bindings(&["LogChunk", "StageName", "Page", "GhRepo", "UserError"]);
        let cmds = parse(&[src("mod", MOD), src("logs", LOGS)], &b).unwrap();
        assert_eq!(
            cmds.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["follow", "steps", "plain"]
        );
        let follow = &cmds[0];
        assert_eq!(follow.docs, ["Streams a step's log.", "Ends with `done`."]);
        assert_eq!(follow.result, "number");
        let args: Vec<(&str, &str)> = follow
            .args
            .iter()
            .map(|a| (a.key.as_str(), a.ty.as_str()))
            .collect();
        // App (an alias of State), State itself: skipped; snake_case sent as camelCase.
        assert_eq!(
            args,
            [
                ("runId", "number"),
                ("gitRef", "string | null"),
                ("onChunk", "Channel<LogChunk>")
            ]
        );
        assert_eq!(follow.args[2].channel.as_deref(), Some("LogChunk"));
        let steps = &cmds[1];
        let args: Vec<(&str, &str)> = steps
            .args
            .iter()
            .map(|a| (a.key.as_str(), a.ty.as_str()))
            .collect();
        assert_eq!(args, [("run_id", "string"), ("stage", "StageName | null")]);
        assert_eq!(steps.result, "Array<string>");
        let plain = &cmds[2];
        let args: Vec<(&str, &str)> = plain
            .args
            .iter()
            .map(|a| (a.key.as_str(), a.ty.as_str()))
            .collect();
        assert_eq!(
            args,
            [
                ("pages", "Array<Page<GhRepo>>"),
                ("extra", "unknown"),
                ("default", "boolean")
            ]
        );
        assert_eq!(plain.result, "null");
    }

    #[test]
    fn the_module_has_one_function_per_command_and_the_command_table() {
        let b = bindings(&["LogChunk", "StageName", "Page", "GhRepo", "UserError"]);
        let ts = render(&parse(&[src("mod", MOD), src("logs", LOGS)], &b).unwrap());
        assert!(
            ts.contains("import type { Channel } from \"@tauri-apps/api/core\";\n"),
            "{ts}"
        );
        for t in ["GhRepo", "LogChunk", "Page", "StageName"] {
            assert!(
                ts.contains(&format!("import type {{ {t} }} from \"./bindings/{t}\";\n")),
                "{t} in {ts}"
            );
        }
        assert!(
            !ts.contains("bindings/UserError"),
            "only the types the commands use: {ts}"
        );
        assert!(ts.contains("export const COMMAND_NAMES = [\n  \"follow\",\n  \"steps\",\n  \"plain\",\n] as const;"), "{ts}");
        assert!(ts.contains(
            "    follow: (runId: number, gitRef: string | null, onChunk: Channel<LogChunk>): Promise<number> => \
             invoke(\"follow\", { runId, gitRef, onChunk }),\n"
        ), "{ts}");
        assert!(ts.contains("    /**\n     * Streams a step's log.\n     * Ends with `done`.\n     */\n    follow:"), "{ts}");
        // A parameter named like a reserved word keeps its key.
        assert!(ts.contains(
            "    plain: (pages: Array<Page<GhRepo>>, extra: unknown, default_: boolean): Promise<null> => \
             invoke(\"plain\", { pages, extra, default: default_ }),\n"
        ), "{ts}");
        assert!(
            ts.contains(
                "  follow: { runId: number; gitRef: string | null; onChunk: Channel<LogChunk> };\n"
            ),
            "{ts}"
        );
        assert!(
            ts.contains("  follow: LogChunk;\n"),
            "the channel table: {ts}"
        );
        assert!(
            ts.contains("  steps: Array<string>;\n"),
            "the result table: {ts}"
        );
    }

    #[test]
    fn a_type_without_a_binding_is_refused_with_the_fix() {
        let e = parse(
            &[src("mod", MOD), src("logs", LOGS)],
            &bindings(&["StageName", "Page", "GhRepo"]),
        )
        .unwrap_err();
        assert_eq!(e.0.len(), 1, "{e}");
        assert!(
            e.0[0]
                .starts_with("logs::follow: argument on_chunk: LogChunk has no TypeScript binding"),
            "{e}"
        );
        assert!(e.0[0].contains("#[ts(export)]"), "{e}");
    }

    #[test]
    fn a_command_that_rejects_with_anything_but_user_error_is_refused() {
        let m = "fn handler() -> H { tauri::generate_handler![a::bad] }";
        let a = "#[tauri::command] pub fn bad(x: String) -> Result<String, String> { todo!() }";
        let e = parse(&[src("mod", m), src("a", a)], &bindings(&[])).unwrap_err();
        assert_eq!(e.0, ["a::bad: return type: returns Result<_, String>: commands reject with UserError, so the UI can show what / why / next"]);
    }

    #[test]
    fn registered_and_defined_commands_must_be_the_same_set() {
        // `b::gone` is registered but not a command; `b::extra` is a command nobody registered.
        let m = "fn handler() -> H { tauri::generate_handler![b::kept, b::gone] }";
        let b = "#[tauri::command] pub fn kept() {} #[tauri::command] pub fn extra() {} pub fn gone() {}";
        let e = parse(&[src("mod", m), src("b", b)], &bindings(&[])).unwrap_err();
        assert_eq!(
            e.0,
            [
                "generate_handler! registers b::gone, which is not a #[tauri::command] fn in src-tauri/src/commands/b.rs",
                "src-tauri/src/commands/b.rs: #[tauri::command] fn extra is not registered in generate_handler! (commands/mod.rs)",
            ]
        );
        let e = parse(&[src("b", b)], &bindings(&[])).unwrap_err();
        assert!(
            e.0.last()
                .unwrap()
                .starts_with("no tauri::generate_handler! list"),
            "{e}"
        );
    }

    #[test]
    fn names_are_sent_as_tauri_sends_them() {
        assert_eq!(lower_camel("git_ref"), "gitRef");
        assert_eq!(lower_camel("carry_to"), "carryTo");
        assert_eq!(lower_camel("on_chunk"), "onChunk");
        assert_eq!(lower_camel("run"), "run");
        assert_eq!(
            lower_camel("github_cli_token_available"),
            "githubCliTokenAvailable"
        );
    }
}
