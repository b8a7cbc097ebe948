// The plugin loader: one good plugin, and each way a plugin can be refused.
#include "opgraph/op/plugin_loader.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "opgraph/build_info.hpp"
#include "opgraph/op/plugin_abi.h"
#include "opgraph/op/session.hpp"

namespace {

using opgraph::PluginError;
using Kind = opgraph::PluginError::Kind;

std::filesystem::path fixture(const std::string& name) {
    return std::filesystem::path(OPGRAPH_TEST_PLUGIN_DIR) / (name + ".so");
}

// Loads `file` into `registry`, expecting a PluginError of `kind`; returns its message.
std::string refused(opgraph::OpRegistry& registry, const std::filesystem::path& file, Kind kind) {
    try {
        opgraph::load_plugin(registry, file);
    } catch (const PluginError& e) {
        EXPECT_EQ(e.kind(), kind) << e.what();
        EXPECT_EQ(e.exit_code(), opgraph::ExitCode::plugin_refused);
        EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos)
            << "message must name the file: " << e.what();
        return e.what();
    }
    ADD_FAILURE() << file << " was not refused";
    return {};
}

TEST(PluginLoader, LoadsAGoodPluginAndStampsItsOps) {
    opgraph::OpRegistry registry;
    const opgraph::LoadedPlugin plugin =
        opgraph::load_plugin(registry, fixture("test_good_plugin"));
    EXPECT_EQ(plugin.name, "test_good");
    EXPECT_EQ(plugin.version, "1.2.3");
    const opgraph::OpDef* def = registry.find("test_identity");
    ASSERT_NE(def, nullptr);
    EXPECT_EQ(def->plugin, "test_good");
}

TEST(PluginLoader, MissingFileCannotBeOpened) {
    opgraph::OpRegistry registry;
    refused(registry, "/nonexistent/dir/plugin.so", Kind::cannot_open);
}

TEST(PluginLoader, FileThatIsNotElfCannotBeOpened) {
    const auto file = std::filesystem::temp_directory_path() / "opgraph_not_elf_plugin.so";
    std::ofstream(file) << "this is a text file, not a shared library\n";
    opgraph::OpRegistry registry;
    const std::string message = refused(registry, file, Kind::cannot_open);
    EXPECT_NE(message.find("cannot open plugin"), std::string::npos) << message;
    std::filesystem::remove(file);
}

TEST(PluginLoader, LibraryWithoutEntryPointIsNotAPlugin) {
    opgraph::OpRegistry registry;
    const std::string message = refused(registry, fixture("test_not_a_plugin"), Kind::not_a_plugin);
    EXPECT_NE(message.find("opgraph_plugin_entry"), std::string::npos) << message;
}

TEST(PluginLoader, EntryPointReturningNullIsNotAPlugin) {
    opgraph::OpRegistry registry;
    refused(registry, fixture("test_null_entry"), Kind::not_a_plugin);
}

TEST(PluginLoader, WrongAbiVersionNamesBothVersions) {
    opgraph::OpRegistry registry;
    const std::string message = refused(registry, fixture("test_wrong_abi"), Kind::abi_mismatch);
    EXPECT_NE(message.find("ABI version 999"), std::string::npos) << message;
    EXPECT_NE(message.find("ABI version " + std::to_string(OPGRAPH_PLUGIN_ABI_VERSION)),
              std::string::npos)
        << message;
}

TEST(PluginLoader, OtherFrameworkBuildIsRefused) {
    opgraph::OpRegistry registry;
    const std::string message = refused(registry, fixture("test_old_build"), Kind::build_mismatch);
    EXPECT_NE(message.find("opgraph 0.0.1"), std::string::npos) << message;
    EXPECT_NE(message.find(std::string("opgraph ") + OPGRAPH_VERSION), std::string::npos)
        << message;
}

TEST(PluginLoader, RegistrationFailureCarriesItsMessageAndRollsBack) {
    opgraph::OpRegistry registry;
    const std::string message =
        refused(registry, fixture("test_failing_register"), Kind::registration_failed);
    EXPECT_NE(message.find("deliberate failure while registering"), std::string::npos) << message;
    EXPECT_EQ(registry.find("half_registered"), nullptr);
    EXPECT_FALSE(registry.has_plugin("failing"));
}

TEST(PluginLoader, DuplicateOpNamesBothPlugins) {
    opgraph::OpRegistry registry;
    opgraph::load_plugins(registry, {OPGRAPH_CORE_PLUGIN_DIR});
    const std::string message =
        refused(registry, fixture("test_duplicate_op"), Kind::registration_failed);
    EXPECT_NE(message.find("'relu' is already registered by plugin 'core' ("), std::string::npos)
        << message;
    EXPECT_NE(message.find("opgraph_core_ops.so)"), std::string::npos)
        << "must name the other plugin's file: " << message;
    EXPECT_EQ(registry.find("relu")->plugin, "core");
}

TEST(PluginLoader, RelativePathIsOpenedFromTheWorkingDirectory) {
    // dlopen() searches the library path for a name without a slash; a user's relative path
    // means the file in the working directory.
    const std::filesystem::path cwd = std::filesystem::current_path();
    std::filesystem::current_path(OPGRAPH_TEST_PLUGIN_DIR);
    opgraph::OpRegistry registry;
    std::string error;
    try {
        opgraph::load_plugin(registry, "test_good_plugin.so");
    } catch (const PluginError& e) {
        error = e.what();
    }
    std::filesystem::current_path(cwd);
    EXPECT_EQ(error, "");
    EXPECT_NE(registry.find("test_identity"), nullptr);
}

TEST(PluginLoader, SearchPathOrderIsCliThenEnvironmentThenDefault) {
    ::setenv(opgraph::kPluginPathEnv, "/env/a:/env/b", 1);
    const auto path = opgraph::plugin_search_path({"/cli/x:/cli/y", "/cli/z"});
    ::unsetenv(opgraph::kPluginPathEnv);
    ASSERT_EQ(path.size(), 6u);
    EXPECT_EQ(path[0], "/cli/x");
    EXPECT_EQ(path[2], "/cli/z");
    EXPECT_EQ(path[3], "/env/a");
    EXPECT_EQ(path[5], opgraph::default_plugin_dir());
}

TEST(PluginLoader, DefaultDirectoryHoldsTheCorePlugin) {
    // The build tree mirrors the install tree: <lib>/opgraph/plugins beside the framework.
    EXPECT_TRUE(std::filesystem::exists(opgraph::default_plugin_dir() / "opgraph_core_ops.so"))
        << opgraph::default_plugin_dir();
    const opgraph::Session session;
    EXPECT_NE(session.ops().find("conv2d"), nullptr);
}

TEST(PluginLoader, EarlierPathEntryShadowsALaterPluginOfTheSameName) {
    opgraph::OpRegistry registry;
    const auto loaded =
        opgraph::load_plugins(registry, {OPGRAPH_CORE_PLUGIN_DIR, OPGRAPH_CORE_PLUGIN_DIR});
    EXPECT_EQ(loaded.size(), 1u);
}

TEST(PluginLoader, MissingPathEntryIsReported) {
    opgraph::OpRegistry registry;
    EXPECT_THROW(opgraph::load_plugins(registry, {"/no/such/plugin/dir"}), PluginError);
}

}  // namespace
