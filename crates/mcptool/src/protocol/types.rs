//! MCP result types, as much as this crate interprets. Every struct keeps `_meta`, and
//! [`Content::Unknown`] keeps content kinds we do not know, so nothing a server sends is lost.

mod completion;
mod content;
mod initialize;
mod prompts;
mod resources;
mod tools;

pub use completion::{CompleteResult, Completion};
pub use content::Content;
pub use initialize::{Implementation, InitializeResult};
pub use prompts::{GetPromptResult, ListPromptsResult, Prompt, PromptArgument, PromptMessage};
pub use resources::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate,
};
pub use tools::{CallToolResult, ListToolsResult, Tool};
