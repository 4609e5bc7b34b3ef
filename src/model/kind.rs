//! Closed sets shared by every layer: what an item is, and which PTV API it goes to.

use super::stored_enum::stored_enum;

stored_enum! {
    /// The kinds of item ptv-sync keeps in step. `Connections` is a service's full
    /// connection set, planned and fingerprinted apart from the service itself so that a
    /// connection change costs one connection write and nothing more.
    #[derive(PartialOrd, Ord)]
    pub enum ItemKind {
        Organization => "organization",
        Channel => "channel",
        Service => "service",
        Connections => "connections",
    }
}

stored_enum! {
    /// The five kinds of service channel.
    #[derive(PartialOrd, Ord)]
    pub enum ChannelType {
        EService => "EService",
        WebPage => "WebPage",
        Phone => "Phone",
        PrintableForm => "PrintableForm",
        ServiceLocation => "ServiceLocation",
    }
}

stored_enum! {
    /// Which PTV import API an organisation writes to.
    #[derive(Default)]
    pub enum ApiVersion {
        #[default]
        V11 => "v11",
        V12 => "v12",
    }
}
