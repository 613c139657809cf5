# Swarm mode's VMs (outside the 42 subject): `INCEPTION_NODES=3 vagrant up`
# brings up one VM per node of inventory/swarm (or INCEPTION_INVENTORY), on a
# private network of their own, and once the last is up provisions them all
# with swarm.yml through that inventory, like
# `ansible-playbook swarm.yml -i inventory/swarm`. Loaded by the Vagrantfile,
# whose settings and helpers it uses; each node's ports and address are read
# from the inventory by Ansible, as the one VM's are.
#
# Three VMs under software emulation do not fit this project's CI: the unit
# tier validates this file (`vagrant validate`); the cluster itself is tested
# on three container targets (molecule/swarm).

NODE_SETTINGS = %w[ansible_port target_https_forwarded_port swarm_cluster_advertise_address].freeze

# The inventory's nodes, in its order: the managers, then the workers.
def cluster_nodes
  env = { "ANSIBLE_CONFIG" => File.join(PROJECT_DIR, "ansible.cfg"), "ANSIBLE_NOCOLOR" => "1" }
  output, status = Open3.capture2e(
    env, ansible_command, "-i", INVENTORY, "swarm_managers:swarm_workers", "--list-hosts", chdir: PROJECT_DIR
  )
  raise "Vagrantfile: Ansible could not list the nodes of #{INVENTORY}: #{output.strip}" unless status.success?

  output.lines.drop(1).map(&:strip).reject(&:empty?)
rescue Errno::ENOENT
  raise "Vagrantfile: Ansible is needed to read the inventory: run `make venv` (or install ansible)"
end

CLUSTER_NODES = cluster_nodes
unless CLUSTER_NODES.size == NODES
  raise "Vagrantfile: INCEPTION_NODES=#{NODES}, but #{INVENTORY} has #{CLUSTER_NODES.size} nodes " \
        "(#{CLUSTER_NODES.join(', ')}): add or remove nodes there"
end

Vagrant.configure("2") do |config|
  config.vm.synced_folder ".", "/vagrant", disabled: true

  CLUSTER_NODES.each do |name|
    settings = inventory_settings(name, NODE_SETTINGS, "inventory-settings.#{name}.json")
    config.vm.define name do |node|
      node.vm.box = ENV.fetch("INCEPTION_BOX", CLOUD_BOX)
      node.vm.hostname = name
      # The nodes' own network: Swarm's management, gossip and overlay traffic.
      node.vm.network "private_network", ip: settings["swarm_cluster_advertise_address"].to_s
      node.vm.network "forwarded_port", id: "ssh", guest: 22, host: Integer(settings["ansible_port"]),
                                        host_ip: "127.0.0.1", auto_correct: false
      node.vm.network "forwarded_port", guest: 443, host: Integer(settings["target_https_forwarded_port"]),
                                        host_ip: "127.0.0.1"
      configure_providers(node, node: name)

      # Once, from the last node, when every node is up: the swarm needs them all.
      next unless name == CLUSTER_NODES.last

      provision_with(node, "swarm.yml")
    end
  end

  # .vagrant/<node>.key, which inventory/swarm names.
  link_ssh_key(config, &:name)
end
